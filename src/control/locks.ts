import { setTimeout as sleep } from "node:timers/promises";
import { BoughError } from "../core/errors.ts";
import { holderAlive, isSelf, selfHolder } from "./holder.ts";
import { type Db, nowIso } from "./store.ts";

interface LockRow {
  pid: number;
  pid_start: number | null;
  boot_id: string | null;
}

/**
 * Takes the lock on a scope if it is free, held by this process or by a process that
 * died (same pid with another start time included). Returns the release function, or
 * the pid of the live holder.
 */
export function tryLock(db: Db, scope: string): { release: () => void } | { holder: number } {
  const me = selfHolder();
  const take = db.transaction((): number | null => {
    const row = db
      .prepare("SELECT pid, pid_start, boot_id FROM locks WHERE scope = ?")
      .get(scope) as LockRow | undefined;
    if (row) {
      const holder = { pid: row.pid, startTicks: row.pid_start, bootId: row.boot_id };
      if (!isSelf(holder) && holderAlive(holder)) return row.pid;
    }
    db.prepare(
      "INSERT OR REPLACE INTO locks (scope, pid, pid_start, boot_id, acquired_at) VALUES (?, ?, ?, ?, ?)",
    ).run(scope, me.pid, me.startTicks, me.bootId, nowIso());
    return null;
  });
  const holder = take.immediate();
  if (holder !== null) return { holder };
  return {
    release: () => {
      db.prepare("DELETE FROM locks WHERE scope = ? AND pid = ? AND pid_start IS ?").run(
        scope,
        me.pid,
        me.startTicks,
      );
    },
  };
}

/**
 * Cross-process lock on a scope (e.g. "home"), held in the control plane so two bough
 * processes on one home serialise their operations. A holder that died is replaced.
 */
export async function acquireLock(
  db: Db,
  scope: string,
  o: { timeoutMs?: number } = {},
): Promise<() => void> {
  const deadline =
    Date.now() + (o.timeoutMs ?? Number(process.env.BOUGH_LOCK_TIMEOUT_MS ?? 120_000));
  for (;;) {
    const r = tryLock(db, scope);
    if ("release" in r) return r.release;
    if (Date.now() > deadline) {
      throw new BoughError(
        "BUSY",
        `another bough process (pid ${r.holder}) is running an operation on this home`,
        "wait for it to finish and try again",
      );
    }
    await sleep(100);
  }
}
