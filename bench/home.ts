import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Ctx, openContext } from "../src/branches/context.ts";
import { DEFAULT_PROJECT, deleteProject, ensureDefaultProject } from "../src/branches/projects.ts";
import { killCluster } from "../src/clusters/cluster.ts";
import { onAbort } from "./cleanup.ts";

export interface BenchHome {
  ctx: Ctx;
  /** Deletes the project (stopping every cluster) and removes the home. */
  close(): Promise<void>;
}

/**
 * A throwaway bough home under baseDir with the default project and its main branch
 * running. Removed by close(), or on Ctrl-C by the abort handler.
 */
export async function openBenchHome(o: {
  baseDir: string;
  prefix: string;
  log: (line: string) => void;
}): Promise<BenchHome> {
  const home = await mkdtemp(join(o.baseDir, o.prefix));
  const forget = onAbort(`bough home ${home}`, () => removeHome(home));
  let ctx: Ctx | null = null;
  const close = async () => {
    if (ctx) {
      await deleteProject(ctx, { name: DEFAULT_PROJECT }).catch((err) =>
        o.log(`project delete failed (${(err as Error).message}): killing its clusters`),
      );
      ctx.close();
    }
    await removeHome(home);
    forget();
  };
  try {
    ctx = await openContext({ home });
    await ensureDefaultProject(ctx);
    return { ctx, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Kills every cluster of a home (data and T0 directories of every branch), then removes it. */
async function removeHome(home: string): Promise<void> {
  const projects = join(home, "projects");
  for (const p of existsSync(projects) ? await readdir(projects) : []) {
    const branches = join(projects, p, "branches");
    for (const b of existsSync(branches) ? await readdir(branches) : []) {
      for (const d of ["data", "t0"]) await killCluster(join(branches, b, d)).catch(() => {});
    }
  }
  await rm(home, { recursive: true, force: true });
}
