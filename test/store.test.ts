import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BranchDetail } from "../src/branches/list.ts";
import type { StatusReport } from "../src/branches/status.ts";
import { detectCloneDriver, fsName } from "../src/clusters/clone-driver.ts";
import { findProgram, mountAt } from "../src/clusters/xfs-image.ts";
import { bough, boughJson, tempHome } from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

// The helpers turn the store off for every other test; these homes get it.
const ON = { BOUGH_STORE: "" };
const GB = 1024 ** 3;

/** Why the store cannot be tested here, or null. */
async function unsupported(): Promise<string | null> {
  if (process.getuid?.() !== 0) return "the store is made as root";
  if (!findProgram("mkfs.xfs")) return "mkfs.xfs not found (apt-get install xfsprogs)";
  if (!existsSync("/dev/loop-control")) return "no loop devices here (/dev/loop-control)";
  if (!findProgram("filefrag")) return "filefrag not found (apt-get install e2fsprogs)";
  const driver = await detectCloneDriver(tmpdir());
  if (driver.name === "reflink") return `${tmpdir()} has reflink already: no store is made there`;
  return null;
}

const loops = () => execFileSync("losetup", ["-a"], { encoding: "utf8" });
const status = (home: string) => boughJson<StatusReport>(home, ["status"], ON);

describe("the store: instant branches on a filesystem without reflink", async () => {
  const skip = (await unsupported()) ?? false;
  let home = "";
  let remove = async () => {};
  let feature: { connectionString: string; cloneDriver: string };

  before(async () => {
    if (skip) return;
    ({ home, remove } = await tempHome());
    await boughJson(home, ["init", "--store-size", "2G"], ON);
  });
  after(() => remove());

  test("init makes a sparse XFS image, mounts it on projects/, and status says so", {
    skip,
  }, async () => {
    const s = await status(home);
    assert.equal(s.cloneDriver, "reflink", s.cloneDriverReason);
    assert.deepEqual(
      { ...s.store, loopDevice: undefined, usedBytes: undefined, allocatedBytes: undefined },
      {
        image: join(home, "store.xfs"),
        mountpoint: join(home, "projects"),
        mounted: true,
        sizeBytes: 2 * GB,
        loopDevice: undefined,
        usedBytes: undefined,
        allocatedBytes: undefined,
      },
    );
    assert.ok((s.store?.allocatedBytes ?? 0) < GB, "sparse: the image costs what is written");
    assert.match(loops(), new RegExp(`\\(${join(home, "store.xfs")}\\)`));
    assert.equal(mountAt(join(home, "projects"))?.fsType, "xfs");
    // The postmaster user reaches its data dirs through the mount point, nobody else does.
    const mode = execFileSync("stat", ["-c", "%U:%G %a", join(home, "projects")], {
      encoding: "utf8",
    }).trim();
    assert.equal(mode, "root:bough 750");
  });

  test("a branch is a reflink clone: main's relation files now share their extents", {
    skip,
  }, async () => {
    const main = await boughJson<BranchDetail>(home, ["branch", "show", "main"], ON);
    await query(
      main.connectionString,
      "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS v FROM generate_series(1, 40000) g; CHECKPOINT",
    );
    const [{ path }] = await rows<{ path: string }>(
      main.connectionString,
      "SELECT pg_relation_filepath('big') AS path",
    );
    const file = join(main.dataDir, path);
    const extents = () => execFileSync("filefrag", ["-v", file], { encoding: "utf8" });
    assert.doesNotMatch(extents(), /shared/, "nothing shares main's table yet");
    feature = await boughJson<typeof feature>(home, ["branch", "create", "feature"], ON);
    assert.equal(feature.cloneDriver, "reflink");
    assert.match(extents(), /shared/, "the branch's clone shares them");
  });

  test("after a reboot (store unmounted) the next command mounts it and the branches work", {
    skip,
  }, async () => {
    for (const b of ["feature", "main"]) await boughJson(home, ["branch", "stop", b], ON);
    execFileSync("umount", [join(home, "projects")]);
    assert.equal(mountAt(join(home, "projects")), null);
    assert.doesNotMatch(loops(), new RegExp(join(home, "store.xfs")), "autoclear freed the loop");
    const list = await boughJson<BranchDetail[]>(home, ["branch", "list"], ON);
    assert.deepEqual(list.map((b) => b.name).sort(), ["feature", "main"]);
    assert.equal(mountAt(join(home, "projects"))?.backingFile, join(home, "store.xfs"));
    await boughJson(home, ["branch", "start", "feature"], ON);
    assert.deepEqual(await rows(feature.connectionString, "SELECT count(*)::int AS n FROM big"), [
      { n: 40000 },
    ]);
  });

  test("store grow enlarges the image and the mounted filesystem", { skip }, async () => {
    const r = await boughJson<StatusReport["store"]>(home, ["store", "grow", "--size", "3G"], ON);
    assert.equal(r?.sizeBytes, 3 * GB);
    const fs = await statfs(join(home, "projects"));
    assert.ok(fs.blocks * fs.bsize > 2.5 * GB, `xfs grew: ${fs.blocks * fs.bsize}`);
    const smaller = await bough(home, ["--json", "store", "grow", "--size", "1G"], { env: ON });
    assert.equal(smaller.code, 64);
  });

  test("--no-store keeps full copies, says how to get instant branches once, and sticks", {
    skip,
  }, async () => {
    const plain = await tempHome();
    try {
      const r = await bough(plain.home, ["init", "--no-store"], { env: ON });
      assert.equal(r.code, 0, r.stderr);
      const fs = await fsName(plain.home);
      const hints = `${r.stdout}${r.stderr}`
        .split("\n")
        .filter((l) => l.startsWith("branches are full copies"));
      assert.equal(hints.length, 1, r.stdout);
      assert.match(
        hints[0],
        new RegExp(`^branches are full copies on this filesystem \\(${fs}\\)`),
      );
      // Recorded: a later init (as up would) does not make the image either.
      const again = await boughJson<{ cloneDriver: string; storeHint: string }>(
        plain.home,
        ["init"],
        ON,
      );
      assert.equal(again.cloneDriver, "copy");
      assert.match(again.storeHint, /--no-store/);
      assert.equal(existsSync(join(plain.home, "store.xfs")), false);
    } finally {
      await plain.remove();
    }
  });

  test("removing the home unmounts the store and leaves no loop device", { skip }, async () => {
    const refused = await bough(home, ["--json", "-y", "store", "remove"], { env: ON });
    assert.equal(refused.code, 64, "not while projects live in it");
    await remove();
    remove = async () => {};
    assert.equal(existsSync(home), false);
    assert.doesNotMatch(loops(), new RegExp(join(home, "store.xfs")));
    assert.doesNotMatch(readFileSync("/proc/self/mountinfo", "utf8"), new RegExp(home));
  });
});
