import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type pg from "pg";
import type { BlobLease, BlobStore } from "../../blobs/blob-store.ts";
import type { AuthRequest } from "../auth/context.ts";
import type { BranchDb, RequestIdentity } from "../request.ts";
import { bucketLimits } from "./buckets.ts";
import { objectNotFound, storageError } from "./errors.ts";
import { mimeAllowed, validateObjectName } from "./names.ts";

export interface StorageRequest extends AuthRequest {
  blobs: BlobStore;
  /** Largest upload any bucket accepts (bytes). */
  maxUploadBytes: number;
}

const tooLarge = () =>
  storageError(413, "Payload too large", "The object exceeded the maximum allowed size");

/**
 * Streams an upload into the blob store (size and MIME checked against the bucket while
 * streaming), then records the row as the caller, so RLS decides; the blob's lease is
 * held until that row commits, so a concurrent gc cannot sweep it.
 */
export async function uploadObject(
  r: StorageRequest,
  u: {
    bucket: string;
    name: string;
    body: Readable;
    contentType: string;
    contentLength?: number;
    cacheControl?: string;
    mode: "insert" | "upsert" | "update";
  },
): Promise<{ Id: string; Key: string }> {
  const name = validateObjectName(u.name);
  const bucket = await bucketLimits(r, u.bucket);
  if (!mimeAllowed(u.contentType, bucket.allowedMimeTypes)) {
    throw storageError(415, "invalid_mime_type", `mime type ${u.contentType} is not supported`);
  }
  const max = Math.min(bucket.fileSizeLimit ?? r.maxUploadBytes, r.maxUploadBytes);
  if (u.contentLength !== undefined && u.contentLength > max) throw tooLarge();
  const { ref, lease } = await r.blobs.put(u.body, { maxBytes: max, tooLarge });
  try {
    const metadata = {
      eTag: `"${ref.sha256}"`,
      size: ref.size,
      mimetype: u.contentType,
      cacheControl: u.cacheControl ?? "max-age=3600",
      contentLength: ref.size,
      httpStatusCode: 200,
    };
    // No RETURNING: it would also demand a SELECT policy, which an insert-only policy lacks.
    const id = randomUUID();
    const args = [u.bucket, name, ref.sha256, JSON.stringify(metadata), id];
    const sql =
      u.mode === "update"
        ? `UPDATE storage.objects SET sha256 = $3, metadata = $4, updated_at = now(),
              last_accessed_at = now() WHERE bucket_id = $1 AND name = $2 AND $5::uuid IS NOT NULL`
        : `INSERT INTO storage.objects (id, bucket_id, name, sha256, metadata, owner, owner_id)
           VALUES ($5, $1, $2, $3, $4, nullif(auth.jwt() ->> 'sub', '')::uuid, nullif(auth.jwt() ->> 'sub', ''))
           ${u.mode === "upsert" ? "ON CONFLICT (bucket_id, name) DO UPDATE SET sha256 = excluded.sha256, metadata = excluded.metadata, updated_at = now()" : ""}`;
    const res = await r.db.asRequest(r.identity, (c) => c.query(sql, args));
    if (res.rowCount === 0) throw objectNotFound();
    return { Id: id, Key: `${u.bucket}/${name}` };
  } finally {
    await lease.release();
  }
}

/**
 * The row a download serves and its bytes: as the caller (RLS decides), or, for public
 * and signed URLs (no caller), as the service, public buckets only unless signed.
 */
export async function openObject(
  r: { db: BranchDb; blobs: BlobStore; identity?: RequestIdentity },
  bucket: string,
  name: string,
  o: { publicOnly?: boolean } = {},
): Promise<{ body: Readable; metadata: Record<string, unknown>; updatedAt: Date }> {
  validateObjectName(name);
  // Buckets only in the service's query: the caller's RLS on storage.buckets is not the point.
  const sql = `SELECT o.sha256, o.metadata, o.updated_at FROM storage.objects o
    WHERE o.bucket_id = $1 AND o.name = $2
      ${o.publicOnly ? "AND EXISTS (SELECT 1 FROM storage.buckets b WHERE b.id = o.bucket_id AND b.public)" : ""}`;
  const run = (c: pg.ClientBase) => c.query(sql, [bucket, name]);
  const res = r.identity ? await r.db.asRequest(r.identity, run) : await r.db.asService(run);
  if (res.rowCount === 0) throw objectNotFound();
  const row = res.rows[0];
  return { body: await r.blobs.get(row.sha256), metadata: row.metadata, updatedAt: row.updated_at };
}

/** Whether the caller may read an object (RLS decides): before signing a URL for it. */
export async function canRead(r: StorageRequest, bucket: string, name: string): Promise<boolean> {
  validateObjectName(name);
  const res = await r.db.asRequest(r.identity, (c) =>
    c.query("SELECT 1 FROM storage.objects WHERE bucket_id = $1 AND name = $2", [bucket, name]),
  );
  return res.rowCount === 1;
}

export async function removeObjects(r: StorageRequest, bucket: string, names: string[]) {
  const res = await r.db.asRequest(r.identity, (c) =>
    c.query(
      `DELETE FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2::text[])
       RETURNING id, bucket_id, name, owner, metadata, created_at, updated_at, last_accessed_at`,
      [bucket, names],
    ),
  );
  return res.rows;
}

export async function moveObject(
  r: StorageRequest,
  m: { bucketId: string; sourceKey: string; destinationKey: string; destinationBucket?: string },
) {
  validateObjectName(m.sourceKey);
  validateObjectName(m.destinationKey);
  const res = await r.db.asRequest(r.identity, (c) =>
    c.query(
      `UPDATE storage.objects SET bucket_id = $3, name = $4, updated_at = now()
        WHERE bucket_id = $1 AND name = $2`,
      [m.bucketId, m.sourceKey, m.destinationBucket ?? m.bucketId, m.destinationKey],
    ),
  );
  if (res.rowCount === 0) throw objectNotFound();
  return { message: "Successfully moved" };
}

/** A copy is a second row naming the same blob: no byte is copied. */
export async function copyObject(
  r: StorageRequest,
  m: { bucketId: string; sourceKey: string; destinationKey: string; destinationBucket?: string },
) {
  validateObjectName(m.sourceKey);
  validateObjectName(m.destinationKey);
  const dest = m.destinationBucket ?? m.bucketId;
  // Leased until the new row commits: a gc may have marked before this row existed.
  let lease: BlobLease | null = null;
  try {
    await r.db.asRequest(r.identity, async (c) => {
      const src = await c.query(
        "SELECT sha256, metadata FROM storage.objects WHERE bucket_id = $1 AND name = $2",
        [m.bucketId, m.sourceKey],
      );
      if (src.rowCount === 0) throw objectNotFound();
      lease = await r.blobs.retain(src.rows[0].sha256);
      if (!lease) throw objectNotFound();
      await c.query(
        `INSERT INTO storage.objects (bucket_id, name, sha256, metadata, owner, owner_id)
         VALUES ($1, $2, $3, $4, nullif(auth.jwt() ->> 'sub', '')::uuid, nullif(auth.jwt() ->> 'sub', ''))`,
        [dest, m.destinationKey, src.rows[0].sha256, src.rows[0].metadata],
      );
    });
  } finally {
    await (lease as BlobLease | null)?.release();
  }
  return { Key: `${dest}/${m.destinationKey}` };
}

/**
 * Supabase's list: the entries directly under prefix — files with their row, folders
 * (deeper names) once each with null id — filtered by a name prefix (search), sorted.
 */
export async function listObjects(
  r: StorageRequest,
  bucket: string,
  o: {
    prefix?: string;
    limit?: number;
    offset?: number;
    search?: string;
    sortBy?: { column?: string; order?: string };
  },
) {
  let prefix = o.prefix ?? "";
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  const column = ["name", "created_at", "updated_at", "last_accessed_at"].includes(
    o.sortBy?.column ?? "",
  )
    ? (o.sortBy?.column as string)
    : "name";
  const order = o.sortBy?.order?.toLowerCase() === "desc" ? "DESC" : "ASC";
  const res = await r.db.asRequest(r.identity, (c) =>
    c.query(
      `WITH rest AS (
         SELECT substr(name, length($2) + 1) AS rest, * FROM storage.objects
          WHERE bucket_id = $1 AND starts_with(name, $2)
       ), entries AS (
         SELECT DISTINCT ON (split_part(rest, '/', 1))
                split_part(rest, '/', 1) AS name,
                CASE WHEN strpos(rest, '/') = 0 THEN id END AS id,
                CASE WHEN strpos(rest, '/') = 0 THEN updated_at END AS updated_at,
                CASE WHEN strpos(rest, '/') = 0 THEN created_at END AS created_at,
                CASE WHEN strpos(rest, '/') = 0 THEN last_accessed_at END AS last_accessed_at,
                CASE WHEN strpos(rest, '/') = 0 THEN metadata END AS metadata
           FROM rest
          WHERE starts_with(lower(split_part(rest, '/', 1)), lower($3))
          ORDER BY split_part(rest, '/', 1), strpos(rest, '/') = 0
       )
       SELECT * FROM entries ORDER BY ${column} ${order} NULLS FIRST, name COLLATE "C"
       LIMIT $4 OFFSET $5`,
      [bucket, prefix, o.search ?? "", o.limit ?? 100, o.offset ?? 0],
    ),
  );
  return res.rows;
}
