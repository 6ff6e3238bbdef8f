import { storageError } from "./errors.ts";

const invalidKey = (why: string) => storageError(400, "InvalidKey", `Invalid key: ${why}`);

/**
 * Checks an object name (its path inside the bucket) before it reaches the database:
 * relative, '/'-separated, no empty, '.' or '..' segments, no NUL, backslash or control
 * characters, at most 1024 bytes (Supabase's limit). Names are keys, never file paths,
 * but clients and proxies do treat them as paths, so traversal is refused outright.
 */
export function validateObjectName(name: string): string {
  if (name === "") throw invalidKey("the object name is empty");
  if (Buffer.byteLength(name) > 1024) throw invalidKey("the object name exceeds 1024 bytes");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(name)) {
    throw invalidKey(`${JSON.stringify(name)} contains a control character or backslash`);
  }
  if (name.startsWith("/")) throw invalidKey(`${JSON.stringify(name)} is an absolute path`);
  for (const seg of name.split("/")) {
    if (seg === "." || seg === "..") {
      throw invalidKey(`${JSON.stringify(name)} contains a '${seg}' segment`);
    }
  }
  return name;
}

/** A bucket id: Supabase allows letters, digits and a few symbols; we keep it that tight. */
export function validateBucketId(id: string): string {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(id) || id === "." || id === "..") {
    throw storageError(400, "InvalidBucketName", `Bucket name invalid: ${JSON.stringify(id)}`);
  }
  return id;
}

/** Bytes of a file_size_limit given as a number or Supabase's "10MB"-style string. */
export function parseSizeLimit(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) throw badLimit(v);
    return v;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(v);
  if (!m) throw badLimit(v);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 }[
    (m[2] ?? "b").toLowerCase() as "b"
  ];
  return Math.floor(Number(m[1]) * unit);
}

const badLimit = (v: unknown) =>
  storageError(400, "InvalidRequest", `invalid file_size_limit ${JSON.stringify(v)}`);

/** Whether a MIME type is allowed by a bucket's list (entries may be "image/*"). */
export function mimeAllowed(mime: string, allowed: readonly string[] | null): boolean {
  if (!allowed || allowed.length === 0) return true;
  const type = mime.split(";")[0].trim().toLowerCase();
  return allowed.some((a) => {
    const want = a.trim().toLowerCase();
    if (want === "*/*" || want === type) return true;
    return want.endsWith("/*") && type.startsWith(want.slice(0, -1));
  });
}
