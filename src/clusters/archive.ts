import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { BoughError } from "../core/errors.ts";

/**
 * WAL archiving and archive recovery, as Postgres runs them: `archive_command` and
 * `restore_command` are shell lines (`sh -c`, as the postmaster user, in PGDATA), with
 * `%p` (path of the segment, relative to PGDATA) and `%f` (its file name) filled in by
 * Postgres. Every path bough puts in them is single-quoted for that shell and its `%`
 * doubled for Postgres, so no character of a path is ever acted on.
 */

/** One word for `sh`: inside single quotes nothing is special but the quote itself. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A path quoted for the shell, with `%` escaped for Postgres' own substitution. */
const pgShellPath = (path: string) => shellQuote(path).replace(/%/g, "%%");

/**
 * Copies a finished segment into dir: a reflink where the filesystem has them (cp
 * --reflink=auto), a copy otherwise, written under a temporary name, fsynced, renamed
 * and the directory fsynced, so the archive never holds a torn segment. Never a hard
 * link: Postgres recycles a segment by renaming it and overwriting it in place, which
 * would rewrite an archived link. A segment already archived (the archiver retries after
 * a crash) succeeds only if identical, so a diverging history is never overwritten.
 */
export function archiveCommand(dir: string): string {
  const d = pgShellPath(dir);
  return [
    `f=${d}/%f;`,
    `if [ -e "$f" ]; then cmp -s %p "$f";`,
    `else cp --reflink=auto %p "$f.tmp" && sync "$f.tmp" && mv -f "$f.tmp" "$f" && sync ${d}; fi`,
  ].join(" ");
}

/** Copies a segment (or timeline history file) back from dir; fails when it is not there. */
export function restoreCommand(dir: string): string {
  return `cp ${pgShellPath(dir)}/%f %p`;
}

/** Settings of a run that archives into dir (archive_mode needs them at start). */
export function archiveSettings(dir: string): Record<string, string> {
  return { archive_mode: "on", archive_command: archiveCommand(dir) };
}

/** What a recovery stops at: a time (inclusive: commits at exactly that time are in) or an LSN. */
export type RecoveryTarget = { time: Date } | { lsn: string };

/**
 * Settings of an archive recovery from dir to target, promoting there. A time target is
 * inclusive (Postgres' default: every commit at or before it is in); an LSN target is
 * exclusive (everything written before it, as pg_current_wal_lsn() read then promises).
 * The timeline stays the base's: bough takes a base at every timeline switch, so the
 * nearest base before a target is on the timeline the branch was on then.
 */
export function recoverySettings(dir: string, target: RecoveryTarget): Record<string, string> {
  const common = {
    restore_command: restoreCommand(dir),
    recovery_target_action: "promote",
    recovery_target_timeline: "current",
  };
  return "time" in target
    ? { ...common, recovery_target_time: pgTimestamp(target.time) }
    : { ...common, recovery_target_lsn: target.lsn, recovery_target_inclusive: "off" };
}

/** "2026-05-01 12:00:00.123+00": the form recovery_target_time parses (not ISO's T...Z). */
const pgTimestamp = (d: Date) => `${d.toISOString().replace("T", " ").replace("Z", "")}+00`;

/**
 * Makes everything a source committed so far reach its archive: a commit record now (a
 * time target is only found by a commit after it), pg_switch_wal() to end the segment
 * holding it, then waits until pg_stat_archiver reports that segment archived.
 */
export async function archiveUpToNow(
  client: pg.Client,
  o: { timeoutMs?: number } = {},
): Promise<{ lsn: string }> {
  await client.query("SELECT pg_current_xact_id()");
  const r = await client.query<{ lsn: string; walfile: string }>(
    // pg_switch_wal() returns the end of the segment it completed; pg_walfile_name names that one.
    "SELECT s.lsn::text AS lsn, pg_walfile_name(s.lsn) AS walfile FROM pg_switch_wal() AS s(lsn)",
  );
  const { lsn, walfile } = r.rows[0];
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    const a = await client.query<{ archived: string | null; failed: string | null }>(
      "SELECT last_archived_wal AS archived, last_failed_wal AS failed FROM pg_stat_archiver",
    );
    const { archived, failed } = a.rows[0];
    // Names of one timeline order like their LSNs; a newer timeline's are larger too.
    if (archived !== null && archived.slice(0, 24) >= walfile) return { lsn };
    if (Date.now() > deadline) {
      throw new BoughError(
        "RECOVERY_FAILED",
        `WAL segment ${walfile} was not archived in ${(o.timeoutMs ?? 60_000) / 1000} s (last archived: ${archived ?? "none"}, last failed: ${failed ?? "none"})`,
        "see the branch's postgres.log for the archive_command's error (disk full, permissions)",
      );
    }
    await sleep(20);
  }
}
