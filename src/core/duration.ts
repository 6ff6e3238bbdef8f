import { BoughError } from "./errors.ts";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `2s`, `5m`, `2h` or `7d` into milliseconds.
 *
 * @example parseDuration("90m") // 5_400_000
 */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) {
    throw new BoughError(
      "INVALID_INPUT",
      `invalid duration ${JSON.stringify(text)}`,
      "give a positive number and a unit: s, m, h or d (e.g. 30m, 2h, 7d)",
    );
  }
  return Number(m[1]) * UNITS[m[2]];
}

/** Parses an instant (ISO 8601, or anything Date understands with a zone) into ISO 8601 UTC. */
export function parseInstant(text: string): string {
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new BoughError(
      "INVALID_INPUT",
      `invalid time ${JSON.stringify(text)}`,
      "give an ISO 8601 time, e.g. 2030-01-31T18:00:00Z",
    );
  }
  return new Date(t).toISOString();
}
