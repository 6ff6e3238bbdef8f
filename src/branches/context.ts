import { chmodSync, mkdirSync, statSync } from "node:fs";
import {
  type CloneDriver,
  copyDriver,
  detectCloneDriver,
  reflinkDriver,
} from "../clusters/clone-driver.ts";
import type { ClusterCtx } from "../clusters/cluster.ts";
import { resolveInstall } from "../clusters/install.ts";
import { ensureRunAs } from "../clusters/os-user.ts";
import { getSetting, setSetting } from "../control/settings.ts";
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
  const driver = await cloneDriverOf(db, projects);
  return {
    paths,
    db,
    cluster: { install, runAs },
    driver,
    progress: o.progress ?? (() => {}),
    close: () => db.close(),
  };
}

/**
 * The clone driver of dir, probed with temp files. The answer is remembered per device,
 * because on a full disk the probe cannot write its files and read-only commands must
 * still run: they then use the last answer.
 */
async function cloneDriverOf(db: Db, dir: string): Promise<CloneDriver> {
  const key = `clone-driver:${statSync(dir).dev}`;
  try {
    const driver = await detectCloneDriver(dir);
    const known = JSON.stringify({ name: driver.name, reason: driver.reason });
    if (getSetting(db, key) !== known) setSetting(db, key, known);
    return driver;
  } catch (err) {
    const known = getSetting(db, key);
    if (known === null) throw err;
    const { name, reason } = JSON.parse(known) as Pick<CloneDriver, "name" | "reason">;
    return name === "reflink" ? { ...reflinkDriver(""), reason } : copyDriver(reason);
  }
}
