import { interruptedOperations, retryDue } from "../control/journal.ts";
import { acquireLock, tryLock } from "../control/locks.ts";
import type { Db } from "../control/store.ts";
import type { Ctx } from "./context.ts";
import { type RecoveryOutcome, recoverInterrupted } from "./recover.ts";

// The lock row serialises processes; calls within one process (a server handling
// requests concurrently) are queued per control-plane connection, since they share the
// holder pid. Keyed by the connection, not the context: the API and MCP server pass a
// copy of the context per request (with its actor), and those copies must queue together.
const queues = new WeakMap<Db, Promise<unknown>>();
// How many calls are queued or running per connection: a read does not queue behind them.
const pending = new WeakMap<Db, number>();

/**
 * Runs fn while holding the home's operation lock, after finishing or rolling back
 * whatever an earlier, killed bough process left half done (a recovery that fails is
 * recorded and does not stop fn). Operations never nest.
 */
export function exclusive<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  return queued(ctx, () =>
    locked(ctx, async () => {
      await recoverInterrupted(ctx);
      return fn();
    }),
  );
}

/** `bough repair`: retries every interrupted operation now, whatever its backoff. */
export function repairInterrupted(ctx: Ctx): Promise<RecoveryOutcome[]> {
  return queued(ctx, () => locked(ctx, () => recoverInterrupted(ctx, { force: true })));
}

/**
 * Runs a read-only fn without waiting for the lock and without writing, so `list`,
 * `show`, `status` and `url` work while another command runs, while a recovery keeps
 * failing, and on a full disk. When the lock is free at once, interrupted operations
 * are recovered first (best effort: a failure there is only reported as progress).
 */
export async function readOnly<T>(ctx: Ctx, fn: () => T | Promise<T>): Promise<T> {
  // Nothing to recover (the usual case): a read writes nothing, not even the lock row.
  const due = interruptedOperations(ctx.db).some((op) => retryDue(op));
  if (due && (pending.get(ctx.db) ?? 0) === 0) await queued(ctx, () => tryRecover(ctx));
  return fn();
}

async function tryRecover(ctx: Ctx): Promise<void> {
  let release: () => void;
  try {
    const lock = tryLock(ctx.db, "home");
    // Another process runs an operation: what it works on shows its current state.
    if (!("release" in lock)) return;
    release = lock.release;
  } catch (err) {
    // The lock could not even be written (a full disk): read what is there.
    ctx.progress(`not recovering: ${(err as Error).message}`);
    return;
  }
  try {
    await recoverInterrupted(ctx);
  } catch (err) {
    ctx.progress(`not recovering: ${(err as Error).message}`);
  } finally {
    try {
      release();
    } catch {
      // Left to a later command: the lock of a dead holder is taken over.
    }
  }
}

function queued<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  pending.set(ctx.db, (pending.get(ctx.db) ?? 0) + 1);
  const previous = queues.get(ctx.db) ?? Promise.resolve();
  const next = previous
    .catch(() => {})
    .then(fn)
    .finally(() => pending.set(ctx.db, (pending.get(ctx.db) ?? 1) - 1));
  queues.set(ctx.db, next);
  return next;
}

async function locked<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(ctx.db, "home");
  try {
    return await fn();
  } finally {
    release();
  }
}
