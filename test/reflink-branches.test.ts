import assert from "node:assert/strict";
import { test } from "node:test";
import type { BranchDetail } from "../src/branches/list.ts";
import { boughJson, tempHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";
import { mountLoopXfs } from "./helpers/xfs.ts";

type BranchJson = BranchDetail;

test("bough on XFS: reflink driver, branches add almost nothing on disk, reset works", async (t) => {
  const xfs = await mountLoopXfs({ sizeMb: 4096 });
  if (!xfs.ok) {
    t.skip(xfs.reason);
    return;
  }
  const { home, remove } = await tempHome(xfs.dir);
  try {
    await boughJson(home, ["init"]);
    const status = await boughJson<{ cloneDriver: string; cloneDriverReason: string }>(home, [
      "status",
    ]);
    assert.equal(status.cloneDriver, "reflink", status.cloneDriverReason);
    const main = await boughJson<BranchJson>(home, ["branch", "show", "main"]);
    await query(
      main.connectionString,
      "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 20) AS payload FROM generate_series(1, 300000) g",
    );
    const created = await boughJson<BranchJson>(home, ["branch", "create", "feature"]);
    assert.equal(created.cloneDriver, "reflink");
    const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
    const branchDisk = list.find((b) => b.name === "feature")?.diskBytes;
    // main's own disk figure no longer shows its WAL: the archive (PITR) shares those blocks
    // by reflink, so the table's size says what the branch did not copy.
    const [{ size }] = await rows<{ size: string }>(
      main.connectionString,
      "SELECT pg_total_relation_size('big')::text AS size",
    );
    assert.ok(Number(size) > 150 * 2 ** 20, `main holds the data (${size})`);
    assert.ok(
      branchDisk !== null && branchDisk !== undefined && branchDisk < 50 * 2 ** 20,
      `branch adds ${branchDisk}`,
    );
    await query(created.connectionString, "DELETE FROM big WHERE id % 2 = 0");
    await boughJson(home, ["branch", "reset", "feature"]);
    assert.deepEqual(await rows(created.connectionString, "SELECT count(*)::int AS n FROM big"), [
      { n: 300000 },
    ]);
  } finally {
    await remove();
    await xfs.cleanup();
  }
});
