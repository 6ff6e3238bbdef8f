import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { boughJson, tempHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

/** A distribution's Postgres (e.g. Debian's postgresql-15), if one is installed. */
function distributionPgBin(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  for (const v of readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
    const bin = join(base, v, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "postgres"))) return bin;
  }
  return null;
}

test("BOUGH_PG_BIN runs everything on another Postgres installation", async (t) => {
  const bin = distributionPgBin();
  if (!bin) {
    t.skip("no distribution Postgres under /usr/lib/postgresql (apt-get install postgresql)");
    return;
  }
  const env = { BOUGH_PG_BIN: bin };
  const { home, remove } = await tempHome();
  try {
    await boughJson(home, ["init"], env);
    const status = await boughJson<{ postgresVersion: string; postgresBinDir: string }>(
      home,
      ["status"],
      env,
    );
    assert.equal(status.postgresBinDir, bin);
    const main = await boughJson<{ connectionString: string }>(
      home,
      ["branch", "show", "main"],
      env,
    );
    const [{ v }] = await rows<{ v: string }>(
      main.connectionString,
      "SELECT current_setting('server_version_num') AS v",
    );
    assert.equal(Math.floor(Number(v) / 10000), Number(status.postgresVersion.split(".")[0]));
    await query(main.connectionString, "CREATE TABLE t (id int PRIMARY KEY)");
    const b = await boughJson<{ connectionString: string }>(
      home,
      ["branch", "create", "feature"],
      env,
    );
    await query(b.connectionString, "ALTER TABLE t ADD COLUMN note text");
    const merged = await boughJson<{ merged: boolean }>(home, ["branch", "merge", "feature"], env);
    assert.equal(merged.merged, true);
    assert.deepEqual(
      await rows(
        main.connectionString,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY 1",
      ),
      [{ column_name: "id" }, { column_name: "note" }],
    );
  } finally {
    await remove();
  }
});
