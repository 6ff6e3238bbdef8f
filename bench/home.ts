import { existsSync } from "node:fs";
import { mkdtemp, readdir, readlink, realpath, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Ctx, openContext } from "../src/branches/context.ts";
import { DEFAULT_PROJECT, deleteProject, ensureDefaultProject } from "../src/branches/projects.ts";
import { removeStore, type StoreMode } from "../src/branches/store.ts";
import { killCluster } from "../src/clusters/cluster.ts";
import { isPostgresProcess, signal, waitGone } from "../src/clusters/processes.ts";
import { mountAt, unmountXfsImage } from "../src/clusters/xfs-image.ts";
import { isAborting, registerCleanup } from "./cleanup.ts";

export interface BenchHome {
  ctx: Ctx;
  /** Deletes the project (stopping every cluster) and removes the home. */
  close(): Promise<void>;
}

/**
 * A throwaway bough home under baseDir with the default project and its main branch
 * running. Removed by close(), or on Ctrl-C by the abort handler. `store: "create"`
 * opens it as `bough init` does (a store image on a filesystem without reflink, as root).
 */
export async function openBenchHome(o: {
  baseDir: string;
  prefix: string;
  log: (line: string) => void;
  store?: StoreMode;
}): Promise<BenchHome> {
  const home = await mkdtemp(join(o.baseDir, o.prefix));
  let ctx: Ctx | null = null;
  const close = registerCleanup(`bough home ${home}`, async () => {
    if (ctx && !isAborting()) {
      await deleteProject(ctx, { name: DEFAULT_PROJECT }).catch((err) =>
        o.log(`project delete failed (${(err as Error).message}): killing its clusters`),
      );
      if (existsSync(ctx.paths.storeImage)) await removeStore(ctx);
    }
    ctx?.close();
    await removeHome(home);
  });
  try {
    ctx = await openContext({ home, store: o.store });
    if (ctx.storeHint) o.log(ctx.storeHint);
    await ensureDefaultProject(ctx);
    return { ctx, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Kills every cluster of a home (data and T0 directories of every branch), then any
 * postgres process still running anywhere under it (one an interrupted operation was
 * starting), then removes it.
 */
async function removeHome(home: string): Promise<void> {
  const projects = join(home, "projects");
  for (const p of existsSync(projects) ? await readdir(projects) : []) {
    const branches = join(projects, p, "branches");
    for (const b of existsSync(branches) ? await readdir(branches) : []) {
      for (const d of ["data", "t0"]) await killCluster(join(branches, b, d)).catch(() => {});
    }
  }
  await killPostgresUnder(home);
  // Interrupted with a store still mounted: rm could not remove its mount point.
  if (existsSync(projects) && mountAt(projects)) {
    await unmountXfsImage(projects, { lazyLastResort: true });
  }
  await rm(home, { recursive: true, force: true });
  await killPostgresUnder(home);
}

/** SIGKILLs postgres processes whose working directory is under dir (Linux /proc). */
async function killPostgresUnder(dir: string): Promise<void> {
  const root = `${await realpath(dir).catch(() => dir)}/`;
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || !isPostgresProcess(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => "");
    if (cwd.startsWith(root)) pids.push(pid);
  }
  for (const pid of pids) signal(pid, "SIGKILL");
  await waitGone(pids, 10_000);
}
