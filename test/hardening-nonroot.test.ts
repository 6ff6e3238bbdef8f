import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createBranch } from "../src/branches/create.ts";
import { deleteBranch } from "../src/branches/delete.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { startBranchOp } from "../src/branches/start-stop.ts";
import { clusterPid } from "../src/clusters/cluster.ts";
import { isRoot } from "../src/clusters/os-user.ts";
import { isPortFree } from "../src/clusters/ports.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

// The core lifecycle under whichever user runs the tests. CI runs everything as root
// (each postmaster as a system user of its own branch, group bough) and runs this file once
// more as a plain user (.ci/nonroot), where runAs is null: Postgres runs as the caller,
// from node_modules.

const count = async (url: string) =>
  (await rows<{ n: number }>(url, "SELECT count(*)::int AS n FROM items"))[0]?.n;

/** Real uid of a process, from /proc. */
function processUid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("Uid:"));
  return Number(line?.split(/\s+/)[1]);
}

describe(`core lifecycle as ${isRoot() ? "root (postmasters as their own users)" : "a plain user"}`, () => {
  let h: TestHome;
  let mainUrl: string;

  before(async () => {
    h = await testHome();
    mainUrl = await h.project("life");
    await query(
      mainUrl,
      "CREATE TABLE items (id serial PRIMARY KEY, label text); INSERT INTO items (label) SELECT 'r' || g FROM generate_series(1, 50) g",
    );
  });
  after(() => h.dispose());

  test("the postmaster runs as the expected user and owns a private data dir", async () => {
    const runAs = h.ctx.cluster.runAs;
    assert.equal(runAs === null, !isRoot());
    const dataDir = h.dirs("life", "main").data;
    const st = await stat(dataDir);
    // As root: main's own user (never root, never the shared `bough`), in group bough.
    const uid = runAs ? st.uid : process.getuid?.();
    if (runAs) {
      assert.notEqual(st.uid, 0);
      assert.notEqual(st.uid, runAs.uid);
      assert.equal(st.gid, runAs.gid);
    }
    assert.equal(st.mode & 0o777, 0o700);
    const pid = clusterPid(dataDir);
    assert.ok(pid !== null);
    assert.equal(processUid(pid), uid);
  });

  test("full branch: isolated writes, reset back to T0", async () => {
    const url = await h.branch("life", "feature");
    assert.equal(await count(url), 50);
    await query(url, "INSERT INTO items (label) VALUES ('branch')");
    assert.equal(await count(url), 51);
    assert.equal(await count(mainUrl), 50);
    await resetBranch(h.ctx, { project: "life", name: "feature" });
    assert.equal(await count(url), 50);
  });

  test("schema-only branch: empty, and empty again after reset", async () => {
    const b = await createBranch(h.ctx, {
      project: "life",
      name: "shape",
      mode: "schema-only",
      switchTo: false,
    });
    const url = b.branch.connectionString;
    assert.equal(await count(url), 0);
    await query(url, "INSERT INTO items (label) VALUES ('x')");
    await resetBranch(h.ctx, { project: "life", name: "shape" });
    assert.equal(await count(url), 0);
  });

  test("a merge rehearses on a scratch clone and applies to the parent", async () => {
    await query(h.url("life", "feature"), "ALTER TABLE items ADD COLUMN tag text");
    const report = await mergeBranch(h.ctx, { project: "life", name: "feature" });
    assert.equal(report.merged, true);
    assert.deepEqual(
      await rows(
        mainUrl,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
      ),
      [{ column_name: "id" }, { column_name: "label" }, { column_name: "tag" }],
    );
  });

  test("a killed branch is recovered by start", async () => {
    const dataDir = h.dirs("life", "shape").data;
    const pid = clusterPid(dataDir);
    assert.ok(pid !== null);
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && clusterPid(dataDir) !== null; i++) await sleep(50);
    const started = await startBranchOp(h.ctx, { project: "life", name: "shape" });
    assert.equal(started.running, true);
    assert.equal(await count(started.connectionString), 0);
  });

  test("delete leaves no process, port or directory", async () => {
    const dataDir = h.dirs("life", "feature").data;
    const t0Dir = h.dirs("life", "feature").t0;
    const port = Number(new URL(h.url("life", "feature")).port);
    assert.deepEqual(await deleteBranch(h.ctx, { project: "life", name: "feature" }), ["feature"]);
    assert.equal(clusterPid(dataDir), null);
    assert.equal(existsSync(dataDir), false);
    assert.equal(existsSync(t0Dir), false);
    assert.equal(await isPortFree(port), true);
  });
});
