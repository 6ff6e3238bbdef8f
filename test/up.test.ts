import assert from "node:assert/strict";
import { test } from "node:test";
import type { BranchDetail } from "../src/branches/list.ts";
import { boughJson, startUp, tempHome } from "./helpers/cli.ts";
import { rows } from "./helpers/sql.ts";

type BranchJson = BranchDetail;

test("bough up initialises, serves main, and Ctrl-C stops what it started", async () => {
  const { home, remove } = await tempHome();
  try {
    const up = await startUp(home);
    const { exited } = up;
    assert.match(up.output(), /bough is up/);
    assert.match(up.output(), /clone driver: (reflink|copy)/);
    const url = /main\s+(postgres:\/\/\S+)/.exec(up.output())?.[1];
    assert.ok(url, up.output());
    assert.deepEqual(await rows(url, "SELECT 1 AS ok"), [{ ok: 1 }]);
    up.proc.kill("SIGINT");
    assert.equal(await exited, 0, up.output());
    const main = await boughJson<BranchJson>(home, ["branch", "show", "main"]);
    assert.equal(main.running, false, "Ctrl-C stopped main");
  } finally {
    await remove();
  }
});
