import { acquireLock } from "../control/locks.ts";
import type { Ctx } from "./context.ts";
import { recoverInterrupted } from "./recover.ts";

// The lock row serialises processes; calls within one process (a server handling
// requests concurrently) are queued per context, since they share the holder pid.
const queues = new WeakMap<Ctx, Promise<unknown>>();

/**
 * Runs fn while holding the home's operation lock, after finishing or rolling back
 * whatever an earlier, killed bough process left half done. Operations never nest.
 */
export function exclusive<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(ctx) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => locked(ctx, fn));
  queues.set(ctx, next);
  return next;
}

async function locked<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(ctx.db, "home");
  try {
    await recoverInterrupted(ctx);
    return await fn();
  } finally {
    release();
  }
}
