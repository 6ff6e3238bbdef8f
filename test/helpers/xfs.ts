import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  findProgram,
  makeXfsImage,
  mountXfsImage,
  unmountXfsImage,
} from "../../src/clusters/xfs-image.ts";

export type LoopXfs =
  | { ok: true; dir: string; cleanup(): Promise<void> }
  | { ok: false; reason: string };

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * A reflink-capable XFS mounted from a sparse loop image in a temp dir (root only), made
 * the way bough's store makes its own (src/clusters/xfs-image.ts).
 * Returns why not when it cannot (not root, no mkfs.xfs: apt package xfsprogs, no loop devices).
 */
export async function mountLoopXfs(o: { sizeMb?: number } = {}): Promise<LoopXfs> {
  if (process.getuid?.() !== 0) return { ok: false, reason: "mounting a loop XFS needs root" };
  if (!findProgram("mkfs.xfs")) {
    return { ok: false, reason: "mkfs.xfs not found (apt-get install xfsprogs)" };
  }
  const base = await mkdtemp(join(tmpdir(), "bough-xfs-"));
  const image = join(base, "image.xfs");
  const dir = join(base, "mnt");
  const removeBase = () => rm(base, { recursive: true, force: true });
  try {
    await makeXfsImage(image, (o.sizeMb ?? 6144) * 1024 * 1024);
    await mkdir(dir);
    await mountXfsImage(image, dir);
  } catch (err) {
    await removeBase();
    return { ok: false, reason: firstLine(err) };
  }
  // The base is 0700 from mkdtemp: the postgres user must traverse into the mount.
  await chmod(base, 0o755);
  await chmod(dir, 0o755);
  return {
    ok: true,
    dir,
    async cleanup() {
      await unmountXfsImage(dir, { lazyLastResort: true });
      await removeBase();
    },
  };
}
