/**
 * Fault injection for crash-recovery tests: BOUGH_FAULT=create:after-clone makes
 * bough kill itself (SIGKILL, no cleanup) when it reaches that point.
 */
export function faultPoint(point: string): void {
  if (process.env.BOUGH_FAULT === point) process.kill(process.pid, "SIGKILL");
}
