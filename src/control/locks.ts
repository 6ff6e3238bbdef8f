import { setTimeout as sleep } from "node:timers/promises";
import { BoughError } from "../core/errors.ts";
import { pidAlive } from "./journal.ts";
import { type Db, nowIso } from "./store.ts";

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
  const tryTake = db.transaction((): number | null => {
    const row = db.prepare("SELECT pid FROM locks WHERE scope = ?").get(scope) as
      | { pid: number }
      | undefined;
    if (row && row.pid !== process.pid && pidAlive(row.pid)) return row.pid;
    db.prepare("INSERT OR REPLACE INTO locks (scope, pid, acquired_at) VALUES (?, ?, ?)").run(
      scope,
      process.pid,
      nowIso(),
    );
    return null;
  });
  for (;;) {
    const holder = tryTake.immediate();
    if (holder === null) break;
    if (Date.now() > deadline) {
      throw new BoughError(
        "BUSY",
        `another bough process (pid ${holder}) is running an operation on this home`,
        "wait for it to finish and try again",
      );
    }
    await sleep(100);
  }
  return () => {
    db.prepare("DELETE FROM locks WHERE scope = ? AND pid = ?").run(scope, process.pid);
  };
}
