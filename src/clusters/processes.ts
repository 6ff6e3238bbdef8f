import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";

/**
 * Process inspection for postmasters, which outlive the bough process that started them.
 * Linux reads /proc; elsewhere we fall back to kill(pid, 0).
 */

const HAS_PROC = (() => {
  try {
    readdirSync("/proc/self");
    return true;
  } catch {
    return false;
  }
})();

/** Alive and not a zombie (an unreaped dead postmaster still answers kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!HAS_PROC) return true;
  const state = procState(pid);
  return state !== null && state !== "Z" && state !== "X";
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/** True when pid is a postgres process (postmaster or child); unknown on non-Linux = true. */
export function isPostgresProcess(pid: number): boolean {
  if (!HAS_PROC) return true;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    const name = argv0.split("/").pop() ?? "";
    // Children rewrite their title to "postgres: checkpointer" etc.
    return name.startsWith("postgres") || name.startsWith("postmaster");
  } catch {
    return false;
  }
}

/** The realpath of a process's cwd (postgres chdirs into its data dir), or null if unreadable. */
function processCwd(pid: number): string | null {
  try {
    return realpathSync(readlinkSync(`/proc/${pid}/cwd`));
  } catch {
    return null;
  }
}

function canonical(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * Postgres processes serving dataDir (postmaster and children, also orphans whose
 * postmaster was killed): they run with their cwd in the data dir. Linux only.
 */
export function clusterProcesses(dataDir: string): number[] {
  if (!HAS_PROC) return [];
  const want = canonical(dataDir);
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (!isPostgresProcess(pid) || !isAlive(pid)) continue;
    if (processCwd(pid) === want) found.push(pid);
  }
  return found;
}

/** Whether pid runs in dataDir; true when this cannot be told (no /proc, no permission). */
export function runsIn(pid: number, dataDir: string): boolean {
  if (!HAS_PROC) return true;
  const cwd = processCwd(pid);
  return cwd === null || cwd === canonical(dataDir);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Waits until none of pids is alive, up to timeoutMs; returns those still alive. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(isAlive);
  }
  return alive;
}

/**
 * SIGKILLs every process whose real, effective, saved or filesystem uid is uid, until
 * none is left (a fork in flight may add one meanwhile). Linux only.
 */
export async function killProcessesOf(uid: number): Promise<void> {
  if (!HAS_PROC || uid === 0) return;
  for (let round = 0; round < 20; round++) {
    const found = readdirSync("/proc").filter((e) => {
      const pid = Number(e);
      // A zombie is dead already (and holds no file): its parent reaps it.
      return (
        Number.isInteger(pid) && pid !== process.pid && procUids(pid).includes(uid) && isAlive(pid)
      );
    });
    if (found.length === 0) return;
    for (const pid of found) signal(Number(pid), "SIGKILL");
    await waitGone(found.map(Number), 2_000);
  }
}

function procUids(pid: number): number[] {
  try {
    const line = /^Uid:(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return line ? line[1].trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

export function pidFile(dataDir: string): string {
  return join(dataDir, "postmaster.pid");
}
