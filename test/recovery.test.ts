import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BranchDetail } from "../src/branches/list.ts";
import { isPortFree } from "../src/clusters/ports.ts";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

type BranchJson = BranchDetail;

/** Postmasters whose data directory lies under dir (backends' cmdlines carry no path). */
const postmastersUnder = (dir: string) =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    });

/**
 * bough kills itself (SIGKILL) at a fault point; the next command must leave
 * everything consistent: no orphan cluster, port or directory, parent untouched.
 */
describe("crash recovery at every step", () => {
  let home: string;
  let remove: () => Promise<void>;
  let mainUrl: string;
  // Directories are keyed by id: projects/<name>-<id>/branches/<name>-<id>/.
  const branchesDir = () => join(home, "projects", "default-1", "branches");
  const dirsOf = (name: string) =>
    readdirSync(branchesDir()).filter((d) => d.startsWith(`${name}-`));

  before(async () => {
    ({ home, mainUrl, remove } = await initialisedHome(
      "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)",
    ));
  });
  after(() => remove());

  for (const point of [
    "create:after-clone",
    "create:after-t0",
    "create:after-start",
    "create:before-ready",
  ]) {
    test(`create killed at ${point} is rolled back`, async () => {
      const killed = await bough(home, ["branch", "create", "doomed"], {
        env: { BOUGH_FAULT: point },
      });
      assert.equal(killed.code, 137, `expected SIGKILL, got ${killed.code}: ${killed.stderr}`);
      const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
      assert.deepEqual(
        list.map((b) => b.name),
        ["main"],
      );
      assert.deepEqual(dirsOf("doomed"), [], "no directory left");
      assert.deepEqual(await rows(mainUrl, "SELECT count(*)::int AS n FROM t"), [{ n: 100 }]);
      // the name is free again
      const again = await boughJson<BranchJson>(home, ["branch", "create", "doomed"]);
      assert.equal(again.state, "ready");
      await boughJson(home, ["branch", "delete", "doomed"]);
    });
  }

  for (const point of ["reset:after-stop", "reset:after-remove", "reset:after-clone"]) {
    test(`reset killed at ${point} is finished`, async () => {
      const b = await boughJson<BranchJson>(home, ["branch", "create", "r"]);
      await query(b.connectionString, "DELETE FROM t");
      const killed = await bough(home, ["branch", "reset", "r"], { env: { BOUGH_FAULT: point } });
      assert.equal(killed.code, 137);
      const after = (await boughJson<BranchJson[]>(home, ["branch", "list"])).find(
        (x) => x.name === "r",
      );
      assert.equal(after?.state, "ready");
      assert.equal(after?.running, true);
      assert.deepEqual(
        await rows(after?.connectionString ?? "", "SELECT count(*)::int AS n FROM t"),
        [{ n: 100 }],
      );
      await boughJson(home, ["branch", "delete", "r"]);
    });
  }

  for (const point of ["delete:after-stop", "delete:after-remove"]) {
    test(`delete killed at ${point} is finished`, async () => {
      const b = await boughJson<BranchJson>(home, ["branch", "create", "d"]);
      const killed = await bough(home, ["-y", "branch", "delete", "d"], {
        env: { BOUGH_FAULT: point },
      });
      assert.equal(killed.code, 137);
      const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
      assert.deepEqual(
        list.map((x) => x.name),
        ["main"],
      );
      assert.deepEqual(dirsOf("d"), []);
      assert.ok(await isPortFree(b.port));
    });
  }

  for (const point of ["merge:during-rehearsal", "merge:after-rehearsal"]) {
    test(`merge killed at ${point}: parent unchanged, rehearsal removed`, async () => {
      const b = await boughJson<BranchJson>(home, ["branch", "create", "m"]);
      await query(b.connectionString, "ALTER TABLE t ADD COLUMN extra int");
      const killed = await bough(home, ["-y", "branch", "merge", "m"], {
        env: { BOUGH_FAULT: point },
      });
      assert.equal(killed.code, 137);
      const after = (
        await boughJson<(BranchJson & { lastError: string })[]>(home, ["branch", "list"])
      ).find((x) => x.name === "m");
      assert.equal(after?.state, "ready");
      assert.match(after?.lastError ?? "", /interrupted/);
      assert.deepEqual(
        await rows(
          mainUrl,
          "SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name = 'extra'",
        ),
        [{ n: 0 }],
      );
      const scratch = join(home, "projects", "default-1", "scratch");
      assert.ok(
        !existsSync(scratch) || readdirSync(scratch).length === 0,
        "no rehearsal clone left",
      );
      await boughJson(home, ["branch", "delete", "m"]);
    });
  }

  test("only main's postmaster is left running", async () => {
    const list = await boughJson<BranchJson[]>(home, ["branch", "list"]);
    assert.deepEqual(
      list.filter((b) => b.running).map((b) => b.name),
      ["main"],
    );
    assert.equal(postmastersUnder(home).length, 1, "one postmaster (main's) runs from this home");
  });
});
