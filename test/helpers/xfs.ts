import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type LoopXfs =
  | { ok: true; dir: string; cleanup(): Promise<void> }
  | { ok: false; reason: string };

function exec(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ ok: !err, out: `${stderr}${stdout}`.trim() || String(err?.message ?? "") }),
    );
  });
}

function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const d of dirs) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

/**
 * A reflink-capable XFS mounted from a sparse loop image in a temp dir (root only).
 * Returns why not when it cannot (not root, no mkfs.xfs: apt package xfsprogs, no loop devices).
 */
export async function mountLoopXfs(o: { sizeMb?: number } = {}): Promise<LoopXfs> {
  if (process.getuid?.() !== 0) return { ok: false, reason: "mounting a loop XFS needs root" };
  const mkfs = findProgram("mkfs.xfs");
  if (!mkfs) return { ok: false, reason: "mkfs.xfs not found (apt-get install xfsprogs)" };
  const base = await mkdtemp(join(tmpdir(), "bough-xfs-"));
  const image = join(base, "image.xfs");
  const dir = join(base, "mnt");
  const removeBase = () => rm(base, { recursive: true, force: true });
  // Sparse: only blocks written take disk space.
  const fh = await open(image, "w");
  await fh.truncate((o.sizeMb ?? 6144) * 1024 * 1024);
  await fh.close();
  const made = await exec(mkfs, ["-q", "-m", "reflink=1", image]);
  if (!made.ok) {
    await removeBase();
    return { ok: false, reason: `mkfs.xfs failed: ${made.out}` };
  }
  await mkdir(dir);
  const mounted = await exec("mount", ["-o", "loop", image, dir]);
  if (!mounted.ok) {
    await removeBase();
    return { ok: false, reason: `mount -o loop failed: ${mounted.out}` };
  }
  // The base is 0700 from mkdtemp: the postgres user must traverse into the mount.
  await chmod(base, 0o755);
  await chmod(dir, 0o755);
  return {
    ok: true,
    dir,
    async cleanup() {
      for (let attempt = 0; attempt < 10; attempt++) {
        if ((await exec("umount", [dir])).ok) break;
        await new Promise((r) => setTimeout(r, 300));
        // Lazy unmount as a last resort: detaches now, frees when the last user leaves.
        if (attempt === 9) await exec("umount", ["-l", dir]);
      }
      await removeBase();
    },
  };
}
