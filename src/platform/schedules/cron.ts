import { Cron } from "croner";
import { BoughError } from "../../core/errors.ts";

/**
 * A cron expression checked by croner (5 fields, or 6 with seconds first), in an IANA
 * time zone; refused with the parser's own words when it is malformed or never fires.
 *
 * @example checkCron("*\/5 * * * *", "UTC") // next run as a Date
 */
export function checkCron(expr: string, timezone: string): Date {
  let next: Date | null;
  try {
    next = new Cron(expr, { timezone }).nextRun();
  } catch (err) {
    const why = (err as Error).message.replace(/^\w+: /, "");
    throw new BoughError(
      "INVALID_INPUT",
      `invalid cron expression "${expr}" (time zone ${timezone}): ${why}`,
      'use 5 fields "min hour day month weekday" or 6 with seconds first, e.g. "*/5 * * * *"',
    );
  }
  if (next === null) {
    throw new BoughError(
      "INVALID_INPUT",
      `cron expression "${expr}" never fires`,
      "check the day and month fields (e.g. 31 February does not exist)",
    );
  }
  return next;
}

/** The next tick after now, or null for an expression that no longer fires. */
export function nextRunOf(expr: string, timezone: string): Date | null {
  try {
    return new Cron(expr, { timezone }).nextRun();
  } catch {
    return null;
  }
}
