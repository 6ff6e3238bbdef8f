import { Readable } from "node:stream";
import { storageError } from "./errors.ts";

const MAX_PART_HEAD = 16 * 1024;
const MAX_FIELD = 64 * 1024;
const bad = (why: string) =>
  storageError(400, "InvalidRequest", `malformed multipart body: ${why}`);

/**
 * The file of a multipart/form-data upload as supabase-js sends a Blob (text fields
 * `cacheControl`, `metadata`, then the file part): fields are read, the file part is
 * returned as a stream that yields its bytes as they arrive, never buffered whole.
 */
export async function multipartFile(
  src: Readable,
  contentType: string,
): Promise<{ fields: Record<string, string>; contentType: string; file: Readable }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw bad("no boundary");
  const delim = Buffer.from(`\r\n--${boundary[1] ?? boundary[2].trim()}`);
  const it = src[Symbol.asyncIterator]();
  // A leading CRLF makes the first boundary look like every later one.
  let buf = Buffer.from("\r\n");
  const fill = async () => {
    const r = await it.next();
    if (r.done) return false;
    buf = Buffer.concat([buf, r.value as Buffer]);
    return true;
  };
  const until = async (needle: Buffer | string, max: number) => {
    let i = buf.indexOf(needle);
    while (i < 0) {
      if (buf.length > max) throw bad("part too large");
      if (!(await fill())) throw bad("ended early");
      i = buf.indexOf(needle);
    }
    return i;
  };
  const fields: Record<string, string> = {};
  let at = await until(delim, MAX_PART_HEAD);
  for (;;) {
    buf = buf.subarray(at + delim.length);
    while (buf.length < 2) if (!(await fill())) throw bad("ended early");
    if (buf.subarray(0, 2).toString() === "--")
      throw storageError(400, "InvalidRequest", "no file in the form");
    const end = await until("\r\n\r\n", MAX_PART_HEAD);
    const head = buf.subarray(2, end).toString("utf8");
    buf = buf.subarray(end + 4);
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "";
    const isFile = /\bfilename=/i.test(disposition) || name === "";
    if (isFile) {
      const type =
        /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim() ?? "application/octet-stream";
      return { fields, contentType: type, file: Readable.from(fileBytes()) };
    }
    at = await until(delim, MAX_FIELD);
    fields[name] = buf.subarray(0, at).toString("utf8");
  }

  async function* fileBytes(): AsyncGenerator<Buffer> {
    for (;;) {
      const i = buf.indexOf(delim);
      if (i >= 0) {
        if (i > 0) yield buf.subarray(0, i);
        // The rest is the closing boundary (and any later parts, ignored).
        while (!(await it.next()).done);
        return;
      }
      // Keep a tail that could be the start of the boundary.
      const safe = buf.length - (delim.length - 1);
      if (safe > 0) {
        yield buf.subarray(0, safe);
        buf = buf.subarray(safe);
      }
      if (!(await fill())) throw bad("file part ended before the closing boundary");
    }
  }
}
