import { chmodSync, mkdirSync } from "node:fs";
import { type CloneDriver, detectCloneDriver } from "../clusters/clone-driver.ts";
import type { ClusterCtx } from "../clusters/cluster.ts";
import { resolveInstall } from "../clusters/install.ts";
import { ensureRunAs } from "../clusters/os-user.ts";
import { type Db, openStore } from "../control/store.ts";
import { makePaths, type Paths, resolveHome } from "../core/paths.ts";

/** Everything an operation needs, passed in (no singletons) so tests can point it anywhere. */
export interface Ctx {
  paths: Paths;
  db: Db;
  cluster: ClusterCtx;
  /** Clone driver of the projects directory (reflink or copy, with why). */
  driver: CloneDriver;
  /** Progress lines for people (the CLI prints them to stderr). */
  progress: (line: string) => void;
  close(): void;
}

export async function openContext(
  o: { home?: string; progress?: (line: string) => void } = {},
): Promise<Ctx> {
  const paths = makePaths(resolveHome(o.home));
  const projects = paths.projectsDir;
  mkdirSync(projects, { recursive: true });
  // The unprivileged postgres user must traverse home and projects/ to reach data dirs.
  chmodSync(paths.home, 0o755);
  chmodSync(projects, 0o755);
  const db = openStore(paths.controlDb);
  const runAs = await ensureRunAs();
  const install = await resolveInstall(paths);
  const driver = await detectCloneDriver(projects);
  return {
    paths,
    db,
    cluster: { install, runAs },
    driver,
    progress: o.progress ?? (() => {}),
    close: () => db.close(),
  };
}
