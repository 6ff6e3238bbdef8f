import { BoughError } from "./errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A length of time such as `500ms`, `30s`, `5m`, `1.5h`, `7d` in ms, or null when text is none. */
export function durationMs(text: string): number | null {
  const m = DURATION_RE.exec(text.trim().toLowerCase());
  return m ? Math.round(Number(m[1]) * UNITS[m[2]]) : null;
}

/**
 * Parses a duration flag: `500ms`, `30s`, `5m`, `2h`, `1d`, or `never` (0: no timeout).
 * A unit is required, so `5` is refused rather than guessed as seconds or minutes.
 */
export function parseDuration(text: string): number {
  if (text.trim().toLowerCase() === "never") return 0;
  const ms = durationMs(text);
  if (ms === null || ms <= 0) {
    throw new BoughError(
      "INVALID_INPUT",
      `invalid duration ${JSON.stringify(text)}`,
      "use a number with a unit (500ms, 30s, 5m, 2h, 1d) or never",
    );
  }
  return ms;
}

/** The inverse for display: the largest unit that divides it exactly; 0 is `never`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "never";
  for (const unit of ["d", "h", "m", "s"]) {
    if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
