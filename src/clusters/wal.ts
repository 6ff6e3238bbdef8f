import { BoughError } from "../core/errors.ts";

/** A range of WAL segment files, both ends included, on one timeline. */
export interface WalRange {
  first: string;
  last: string;
  /** Bytes per segment (wal_segment_size). */
  segmentSize: number;
}

const SEGMENT = /^[0-9A-F]{24}$/;

/** Segment number of a WAL file name TTTTTTTTLLLLLLLLSSSSSSSS (timeline, log, seg). */
export function segmentNumber(name: string, segmentSize: number): number {
  const perLog = 0x100000000 / segmentSize;
  return Number.parseInt(name.slice(8, 16), 16) * perLog + Number.parseInt(name.slice(16, 24), 16);
}

/**
 * The segment files of a range among a directory's names, in order; throws when one is
 * missing (the clone could not recover to a consistent state without it).
 */
export function walSegmentsBetween(names: readonly string[], r: WalRange): string[] {
  const tli = r.first.slice(0, 8);
  const lo = segmentNumber(r.first, r.segmentSize);
  const hi = segmentNumber(r.last, r.segmentSize);
  const found = names
    .filter((n) => SEGMENT.test(n) && n.startsWith(tli))
    .filter((n) => {
      const s = segmentNumber(n, r.segmentSize);
      return s >= lo && s <= hi;
    })
    .sort();
  if (found.length !== hi - lo + 1 || r.last.slice(0, 8) !== tli) {
    throw new BoughError(
      "CLONE_FAILED",
      `WAL segments ${r.first}..${r.last} are not all in the source's pg_wal (found ${found.length} of ${hi - lo + 1})`,
      "retry; if it persists, the source's WAL is being removed too early (check wal_keep_size and archiving)",
    );
  }
  return found;
}
