import type { AuthRequest } from "../auth/context.ts";
import { bucketNotFound, storageError } from "./errors.ts";
import { parseSizeLimit, validateBucketId } from "./names.ts";

export interface BucketInput {
  id?: string;
  name?: string;
  public?: boolean;
  file_size_limit?: number | string | null;
  allowed_mime_types?: string[] | null;
}

const COLUMNS =
  "id, name, owner, public, file_size_limit, allowed_mime_types, created_at, updated_at";

/** storage.buckets as the caller sees it (RLS decides; the secret key sees all). */
export async function listBuckets(r: AuthRequest): Promise<unknown[]> {
  return r.db.asRequest(r.identity, async (c) => {
    const res = await c.query(`SELECT ${COLUMNS} FROM storage.buckets ORDER BY id`);
    return res.rows.map(shape);
  });
}

export async function getBucket(r: AuthRequest, id: string): Promise<unknown> {
  return r.db.asRequest(r.identity, async (c) => {
    const res = await c.query(`SELECT ${COLUMNS} FROM storage.buckets WHERE id = $1`, [id]);
    if (res.rowCount === 0) throw bucketNotFound();
    return shape(res.rows[0]);
  });
}

export async function createBucket(r: AuthRequest, b: BucketInput): Promise<{ name: string }> {
  const id = validateBucketId(b.id ?? b.name ?? "");
  await r.db.asRequest(r.identity, (c) =>
    c.query(
      `INSERT INTO storage.buckets (id, name, owner, public, file_size_limit, allowed_mime_types)
       VALUES ($1, $1, nullif(auth.jwt() ->> 'sub', '')::uuid, $2, $3, $4)`,
      [id, b.public ?? false, parseSizeLimit(b.file_size_limit), b.allowed_mime_types ?? null],
    ),
  );
  return { name: id };
}

export async function updateBucket(r: AuthRequest, id: string, b: BucketInput) {
  const n = await r.db.asRequest(r.identity, async (c) => {
    const res = await c.query(
      `UPDATE storage.buckets
          SET public = coalesce($2, public),
              file_size_limit = CASE WHEN $5 THEN $3 ELSE file_size_limit END,
              allowed_mime_types = CASE WHEN $6 THEN $4 ELSE allowed_mime_types END,
              updated_at = now()
        WHERE id = $1`,
      [
        id,
        b.public ?? null,
        parseSizeLimit(b.file_size_limit),
        b.allowed_mime_types ?? null,
        b.file_size_limit !== undefined,
        b.allowed_mime_types !== undefined,
      ],
    );
    return res.rowCount;
  });
  if (n === 0) throw bucketNotFound();
  return { message: "Successfully updated" };
}

export async function emptyBucket(r: AuthRequest, id: string) {
  await r.db.asRequest(r.identity, async (c) => {
    const res = await c.query("SELECT 1 FROM storage.buckets WHERE id = $1", [id]);
    if (res.rowCount === 0) throw bucketNotFound();
    await c.query("DELETE FROM storage.objects WHERE bucket_id = $1", [id]);
  });
  return { message: "Successfully emptied" };
}

export async function deleteBucket(r: AuthRequest, id: string) {
  await r.db.asRequest(r.identity, async (c) => {
    const left = await c.query("SELECT 1 FROM storage.objects WHERE bucket_id = $1 LIMIT 1", [id]);
    if (left.rowCount) {
      throw storageError(409, "InvalidRequest", "The bucket you tried to delete is not empty");
    }
    const res = await c.query("DELETE FROM storage.buckets WHERE id = $1", [id]);
    if (res.rowCount === 0) throw bucketNotFound();
  });
  return { message: "Successfully deleted" };
}

/** A bucket row as Supabase returns it (limits as numbers). */
export function shape(row: Record<string, unknown>) {
  return {
    ...row,
    file_size_limit: row.file_size_limit === null ? null : Number(row.file_size_limit),
  };
}

/** The limits an upload is checked against, read as the service (Supabase does too). */
export async function bucketLimits(
  r: AuthRequest,
  id: string,
): Promise<{ public: boolean; fileSizeLimit: number | null; allowedMimeTypes: string[] | null }> {
  const res = await r.db.asService((c) =>
    c.query(
      "SELECT public, file_size_limit, allowed_mime_types FROM storage.buckets WHERE id = $1",
      [id],
    ),
  );
  if (res.rowCount === 0) throw bucketNotFound();
  const b = res.rows[0];
  return {
    public: b.public,
    fileSizeLimit: b.file_size_limit === null ? null : Number(b.file_size_limit),
    allowedMimeTypes: b.allowed_mime_types,
  };
}
