import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

// Kills `reset --to-parent` at its named points: before the swap it is rolled back (the
// branch as it was), from the swap on it is finished by the next command. Slow (a clone
// per point), so a soak test.
let home: string;
let mainUrl: string;
let remove: () => Promise<void>;

before(async () => {
  ({ home, mainUrl, remove } = await initialisedHome(
    "CREATE TABLE t (id int); INSERT INTO t VALUES (1);",
  ));
  await boughJson(home, ["branch", "create", "b"]);
});
after(() => remove());

const count = async (url: string) => (await rows(url, "SELECT count(*)::int n FROM t"))[0].n;

test("reset --to-parent killed at each step is rolled back before the swap, forward after it", async () => {
  let parentRows = 1;
  for (const [point, forward] of [
    ["reset-parent:after-clone", false],
    ["reset-parent:after-t0", false],
    ["reset-parent:after-stop", true],
    ["reset-parent:mid-swap", true],
    ["reset-parent:before-ready", true],
  ] as const) {
    await query(mainUrl, "INSERT INTO t VALUES (2)");
    parentRows++;
    const before = await boughJson<{ port: number; connectionString: string }>(home, [
      "branch",
      "show",
      "b",
    ]);
    const branchRows = await count(before.connectionString);
    const killed = await bough(home, ["branch", "reset", "b", "--to-parent"], {
      env: { BOUGH_FAULT: point },
    });
    assert.equal(killed.code, 137, point);
    const after = await boughJson<{ state: string; port: number; connectionString: string }>(home, [
      "branch",
      "show",
      "b",
    ]);
    assert.equal(after.state, "ready", point);
    assert.equal(after.port, before.port, point);
    assert.equal(await count(after.connectionString), forward ? parentRows : branchRows, point);
    const dir = readdirSync(join(home, "projects/default-1/branches")).find((d) =>
      d.startsWith("b-"),
    ) as string;
    assert.deepEqual(
      readdirSync(join(home, "projects/default-1/branches", dir))
        .filter((f) => f.endsWith(".new") || f.endsWith(".old"))
        .sort(),
      [],
      point,
    );
  }
});
