import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import type { BranchDetail } from "../src/branches/list.ts";
import { boughJson, tempHome } from "./helpers/cli.ts";
import { rows } from "./helpers/sql.ts";

type BranchJson = BranchDetail;

test("bough up initialises, serves main, and Ctrl-C stops what it started", async () => {
  const { home, remove } = await tempHome();
  try {
    const up = spawn(
      process.execPath,
      [resolve(import.meta.dirname, "../bin/bough.js"), "--home", home, "up"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    up.stdout.on("data", (d) => {
      out += d;
    });
    up.stderr.on("data", (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((done) => up.on("exit", (code) => done(code)));
    for (let i = 0; i < 600 && !out.includes("Ctrl-C"); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /bough is up/);
    assert.match(out, /clone driver: (reflink|copy)/);
    const url = /main\s+(postgres:\/\/\S+)/.exec(out)?.[1];
    assert.ok(url, out);
    assert.deepEqual(await rows(url, "SELECT 1 AS ok"), [{ ok: 1 }]);
    up.kill("SIGINT");
    assert.equal(await exited, 0, out);
    const main = await boughJson<BranchJson>(home, ["branch", "show", "main"]);
    assert.equal(main.running, false, "Ctrl-C stopped main");
  } finally {
    await remove();
  }
});
