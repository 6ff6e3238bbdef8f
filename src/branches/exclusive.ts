import { acquireLock } from "../control/locks.ts";
import type { Ctx } from "./context.ts";
import { recoverInterrupted } from "./recover.ts";

/**
 * Runs fn while holding the home's operation lock, after finishing or rolling back
 * whatever an earlier, killed bough process left half done.
 */
export async function exclusive<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(ctx.db, "home");
  try {
    await recoverInterrupted(ctx);
    return await fn();
  } finally {
    release();
  }
}
