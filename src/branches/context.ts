import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type CloneDriver,
  copyDriver,
  detectCloneDriver,
  reflinkDriver,
} from "../clusters/clone-driver.ts";
import type { ClusterCtx } from "../clusters/cluster.ts";
import { resolveInstall } from "../clusters/install.ts";
import { ensureRunAs, type RunAs } from "../clusters/os-user.ts";
import { tightenSecrets } from "../control/secrets.ts";
import { getSetting, setSetting } from "../control/settings.ts";
import { type Db, openStore } from "../control/store.ts";
import { makePaths, type Paths, resolveHome } from "../core/paths.ts";
import { prepareStore, type StoreMode } from "./store.ts";

/**
 * Who asks for an operation, for the audit trail. The HTTP API and the MCP server set it
 * per call on a shallow copy of the context (`{ ...ctx, actor }`); the CLI sets the OS user;
 * `bough up`'s Postgres proxy acts as `proxy` (lazy starts, idle stops); branches deleted
 * because they expired are deleted by `expiry` (name: server or cli).
 */
export type Actor = {
  kind: "cli" | "api" | "mcp" | "dashboard" | "proxy" | "expiry";
  name: string;
  client?: string;
};

/** Everything an operation needs, passed in (no singletons) so tests can point it anywhere. */
export interface Ctx {
  paths: Paths;
  db: Db;
  cluster: ClusterCtx;
  /** Clone driver of the projects directory (reflink or copy, with why). */
  driver: CloneDriver;
  /** Progress lines for people (the CLI prints them to stderr). */
  progress: (line: string) => void;
  /** Who is acting (unset: bough itself, e.g. `bough up` starting branches). */
  actor?: Actor;
  /** The one line saying how to get instant branches, when a command that may create the store did not (init, up). */
  storeHint: string | null;
  close(): void;
}

export interface OpenOptions {
  home?: string;
  progress?: (line: string) => void;
  /** Default "mount": an existing store is mounted, none is created. */
  store?: StoreMode;
  /** Size of a store created now (default: half the free space, at most 64 GB). */
  storeSizeBytes?: number;
}

export async function openContext(o: OpenOptions = {}): Promise<Ctx> {
  const paths = makePaths(resolveHome(o.home));
  const runAs = await ensureRunAs();
  const projects = paths.projectsDir;
  mkdirSync(projects, { recursive: true, mode: 0o700 });
  closeToOthers(paths.home, runAs);
  tightenSecrets(paths.secretsDir);
  const db = openStore({ file: paths.controlDb, secretsDir: paths.secretsDir });
  // Before anything reads the projects directory: after a reboot the branches are in the unmounted image.
  const storeHint = await prepareStore({
    paths,
    db,
    mode: o.store ?? "mount",
    sizeBytes: o.storeSizeBytes,
  }).catch((err) => {
    db.close();
    throw err;
  });
  closeToOthers(projects, runAs);
  tightenLogs(paths);
  const install = await resolveInstall(paths);
  const driver = await cloneDriverOf(db, projects);
  return {
    paths,
    db,
    cluster: { install, runAs },
    driver,
    progress: o.progress ?? (() => {}),
    storeHint,
    close: () => db.close(),
  };
}

/**
 * No other local user may enter the home: as root it is root:bough 0750, so the postmaster
 * user traverses it to its data dirs and the Postgres copy, and nobody else gets in;
 * otherwise postgres runs as the caller and it is 0700. Applied to existing homes too
 * (older versions made them 0755).
 */
function closeToOthers(dir: string, runAs: RunAs | null): void {
  if (runAs) chownSync(dir, 0, runAs.gid);
  chmodSync(dir, runAs ? 0o750 : 0o700);
}

/** Server logs quote SQL and errors: older versions left them 0644, now they are owner-only. */
function tightenLogs(paths: Paths): void {
  for (const project of readdirSync(paths.projectsDir)) {
    const branches = join(paths.projectsDir, project, "branches");
    if (!existsSync(branches)) continue;
    for (const branch of readdirSync(branches)) {
      const log = join(branches, branch, "postgres.log");
      if (existsSync(log)) chmodSync(log, 0o600);
    }
  }
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
