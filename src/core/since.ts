import { BoughError } from "./errors.ts";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A `--since` / `?since=` value: an ISO instant, or an age such as 30m, 1h, 7d. */
export function sinceInstant(t: string, now = Date.now()): string {
  const age = /^(\d+)([smhd])$/u.exec(t);
  if (age) return new Date(now - Number(age[1]) * UNITS[age[2]]).toISOString();
  const at = Date.parse(t);
  if (Number.isNaN(at)) {
    throw new BoughError(
      "INVALID_INPUT",
      `--since "${t}" is neither an ISO time nor an age`,
      "use e.g. --since 2026-01-31T12:00:00Z or --since 1h (s, m, h, d)",
    );
  }
  return new Date(at).toISOString();
}
