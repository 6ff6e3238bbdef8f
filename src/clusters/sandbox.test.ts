import assert from "node:assert/strict";
import { test } from "node:test";
import { mountSteps, sandboxedCommand } from "./sandbox.ts";

test("a world-writable directory holding nothing kept becomes a private tmpfs", () => {
  assert.deepEqual(mountSteps(["/var/lib/bough/x/data"], ["/tmp", "/dev/shm"]), [
    "private",
    "/tmp",
    "private",
    "/dev/shm",
  ]);
});

test("one holding a kept path turns read-only around it", () => {
  assert.deepEqual(mountSteps(["/tmp/home/scratch/merge-7"], ["/tmp", "/var/tmp"]), [
    "keep",
    "/tmp",
    "keep",
    "/tmp/home/scratch/merge-7",
    "readonly",
    "/tmp",
    "private",
    "/var/tmp",
  ]);
  // A sibling with a common prefix is not inside.
  assert.deepEqual(mountSteps(["/tmpx/data"], ["/tmp"]), ["private", "/tmp"]);
});

test("paths reach the sandbox as arguments, never inside its script", () => {
  const odd = "/tmp/a b;$(reboot)/data";
  const { cmd, args } = sandboxedCommand("/pg/bin/postgres", ["-D", odd], {
    user: { uid: 1234, gid: 99, name: "bough-abc123-o7" },
    sandbox: { socketDir: "/run/bough/bough-abc123-o7", keep: [odd] },
  });
  assert.equal(cmd, "unshare");
  const script = args[args.indexOf("-c") + 1];
  assert.equal(script.includes(odd), false);
  assert.ok(args.includes(odd));
  assert.deepEqual(args.slice(-5), ["--clear-groups", "--", "/pg/bin/postgres", "-D", odd]);
  assert.ok(args.includes("--reuid=1234") && args.includes("--regid=99"));
  assert.deepEqual(args.slice(0, 5), ["--net", "--ipc", "--mount", "--propagation", "private"]);
});
