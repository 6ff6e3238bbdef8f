/**
 * Runs fn now and every intervalMs, one run at a time (a slow run delays the next, never
 * overlaps it); errors go to onError. The timer does not keep the process alive.
 *
 * @example const t = periodic(sweep, 2_000, report); ...; await t.stop();
 */
export function periodic(
  fn: () => Promise<unknown>,
  intervalMs: number,
  onError: (err: unknown) => void,
): { stop(): Promise<void> } {
  let running = Promise.resolve();
  const tick = () => {
    running = running.then(fn).then(() => {}, onError);
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
