import { readFileSync } from "node:fs";

/**
 * Who holds a lock or runs an operation: a pid alone is not enough. In a container pids
 * repeat across restarts (bough may get the very pid of the process it replaces) and on
 * a long-running machine a dead holder's pid is reused by an unrelated process. The pid
 * plus the process' start time (clock ticks since boot) plus the boot id name one
 * process of one boot.
 */
export interface Holder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat; null where /proc is absent (or for rows of old homes). */
  startTicks: number | null;
  bootId: string | null;
}

/** Start time of a process in clock ticks since boot, or null (gone, or no /proc). */
export function processStartTicks(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

function readBootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

let self: Holder | undefined;

/** This process, as it is recorded on the operations it runs and the locks it takes. */
export function selfHolder(): Holder {
  self ??= { pid: process.pid, startTicks: processStartTicks(process.pid), bootId: readBootId() };
  return self;
}

export const isSelf = (h: Holder): boolean => {
  const me = selfHolder();
  return h.pid === me.pid && h.startTicks === me.startTicks && h.bootId === me.bootId;
};

/** Whether the process that recorded h still runs. */
export function holderAlive(h: Holder): boolean {
  const me = selfHolder();
  if (h.bootId !== null && me.bootId !== null && h.bootId !== me.bootId) return false;
  // Our own pid with another start time (or none: a row of an older bough) is a process
  // that died before this one was given its pid.
  if (h.pid === me.pid) return isSelf(h);
  if (!pidExists(h.pid)) return false;
  if (h.startTicks === null) return true;
  const ticks = processStartTicks(h.pid);
  return ticks === null || ticks === h.startTicks;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
