import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ensureRunAs, isRoot } from "./os-user.ts";
import { removeTree } from "./remove-tree.ts";

const ROOT_ONLY = "needs root: the cluster user exists only under root";

test("removeTree without a cluster user removes the tree, never a symlink's target", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bough-rm-"));
  const outside = await mkdtemp(join(tmpdir(), "bough-rm-outside-"));
  try {
    await writeFile(join(outside, "keep"), "x");
    await mkdir(join(dir, "a/b"), { recursive: true });
    await symlink(outside, join(dir, "a/b/link"));
    await removeTree(dir, null);
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(join(outside, "keep")), true);
    await removeTree(dir, null); // repeatable
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test("as root, the cluster user's directories are removed with its rights, not root's", async (t) => {
  if (!isRoot()) return t.skip(ROOT_ONLY);
  const runAs = await ensureRunAs();
  assert.ok(runAs);
  const dir = await mkdtemp(join(tmpdir(), "bough-rm-"));
  const outside = await mkdtemp(join(tmpdir(), "bough-rm-outside-"));
  try {
    await writeFile(join(outside, "keep"), "x");
    // root's tree holding a data dir the cluster user owns, with a link planted in it
    const data = join(dir, "branch/data");
    await mkdir(join(data, "base"), { recursive: true });
    await writeFile(join(dir, "branch/postgres.log"), "log");
    await symlink(outside, join(data, "base/link"));
    for (const p of [data, join(data, "base")]) await chown(p, runAs.uid, runAs.gid);
    await removeTree(dir, runAs);
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(join(outside, "keep")), true);

    // A root-only file inside the user's tree survives: root did not do the deleting.
    const user = join(dir, "user");
    await mkdir(join(user, "rootonly"), { recursive: true });
    await writeFile(join(user, "rootonly/file"), "x");
    await chmod(join(user, "rootonly"), 0o755);
    await chown(user, runAs.uid, runAs.gid);
    await assert.rejects(removeTree(user, runAs), /removing/);
    assert.equal(existsSync(join(user, "rootonly/file")), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  }
});
