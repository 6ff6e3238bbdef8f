import type { Readable } from "node:stream";

/** What a stored blob is known by: its content hash and length. */
export interface BlobRef {
  sha256: string;
  size: number;
}

/** A blob as gc sees it: its hash and when its file was last written (ms since epoch). */
export interface BlobEntry {
  sha256: string;
  mtimeMs: number;
}

/**
 * An upload between "bytes stored" and "row committed": gc keeps every leased hash, so a
 * blob is never swept while the row that will reference it is still in flight.
 */
export interface BlobLease {
  /** Ends the lease (after the referencing row committed or rolled back). Idempotent. */
  release(): Promise<void>;
}

export interface PutOptions {
  /** Refuse (and discard) the bytes once more than this many arrived. */
  maxBytes?: number;
  /** Called when maxBytes is exceeded; its error is what put rejects with. */
  tooLarge?: () => Error;
}

/**
 * A content-addressed, immutable store of files shared by every branch of a project:
 * a branch's storage.objects rows name blobs by sha256, so a clone copies no file.
 * The file-system store is the one we have; an S3-compatible one fits the same shape.
 *
 * @example const { ref, lease } = await store.put(stream); ...commit row...; await lease.release()
 */
export interface BlobStore {
  /**
   * Streams bytes into the store (never held in memory whole) and leases the result.
   * The caller releases the lease once its reference is committed (or abandoned).
   */
  put(bytes: Readable, o?: PutOptions): Promise<{ ref: BlobRef; lease: BlobLease }>;
  /** The blob's bytes as a stream; rejects with ENOENT if absent. */
  get(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  has(sha256: string): Promise<boolean>;
  /**
   * Leases an existing blob for a new reference to it (copy): null when it is gone.
   * Once this resolves non-null, a concurrent sweep keeps the blob.
   */
  retain(sha256: string): Promise<BlobLease | null>;
  /** Every stored blob (for gc). */
  list(): AsyncIterable<BlobEntry>;
  /** Hashes of live leases and leases younger than staleMs (gc's in-flight set). */
  leased(o: { staleMs: number }): Promise<Set<string>>;
  /**
   * Removes a blob unless, once it is out of the way, it turns out to be leased or
   * rewritten within graceMs (a concurrent upload of the same bytes): safe against put.
   */
  sweep(sha256: string, o: { graceMs: number }): Promise<boolean>;
  /**
   * Removes temp files and leases older than olderThanMs (a crashed upload's leftovers)
   * and restores what a crashed sweep left half-done. Returns how many files it removed.
   */
  cleanStale(o: { olderThanMs: number }): Promise<number>;
}
