import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BlobEntry, BlobLease, BlobRef, BlobStore, PutOptions } from "./blob-store.ts";

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The blob store as files under one directory (a project's `blobs/`):
 * `ab/cd/<sha256>` immutable blobs, `tmp/` uploads in progress, `leases/<id>.<sha256>`
 * uploads whose row has not committed yet, `trash/` blobs gc is about to remove.
 *
 * An upload writes tmp → fsync → lease → rename into place, always (even when the blob
 * exists), so a concurrent gc that removed the old copy cannot leave the row dangling;
 * gc moves a blob to trash before deciding, then restores it if it was leased or
 * rewritten meanwhile. Neither side takes a lock.
 */
export function fsBlobStore(root: string): BlobStore {
  const dirs = {
    tmp: join(root, "tmp"),
    leases: join(root, "leases"),
    trash: join(root, "trash"),
  };
  const blobPath = (sha: string) => {
    if (!SHA256.test(sha)) throw new Error(`not a sha256: ${sha}`);
    return join(root, sha.slice(0, 2), sha.slice(2, 4), sha);
  };
  const leasesOf = async (): Promise<{ name: string; sha: string }[]> => {
    const names = await readdir(dirs.leases).catch(() => [] as string[]);
    return names.map((name) => ({ name, sha: name.slice(name.lastIndexOf(".") + 1) }));
  };

  return {
    async put(bytes: Readable, o: PutOptions = {}) {
      await mkdir(dirs.tmp, { recursive: true });
      const tmp = join(dirs.tmp, randomUUID());
      const hash = createHash("sha256");
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (o.maxBytes !== undefined && size > o.maxBytes) {
            done(o.tooLarge?.() ?? new Error("blob too large"));
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(bytes, meter, createWriteStream(tmp, { flags: "wx" }));
        // Durable before a row can reference it.
        const fh = await open(tmp, "r");
        await fh.sync().finally(() => fh.close());
        const sha256 = hash.digest("hex");
        const lease = await takeLease(dirs.leases, sha256);
        const dst = blobPath(sha256);
        await mkdir(join(dst, ".."), { recursive: true });
        await rename(tmp, dst);
        const ref: BlobRef = { sha256, size };
        return { ref, lease };
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async get(sha256, range) {
      const path = blobPath(sha256);
      // Opened before returning, so a missing blob rejects here rather than mid-stream.
      const fh = await open(path, "r");
      return fh.createReadStream({ start: range?.start, end: range?.end });
    },

    has: (sha256) =>
      stat(blobPath(sha256)).then(
        () => true,
        () => false,
      ),

    async retain(sha256) {
      const path = blobPath(sha256);
      const lease = await takeLease(dirs.leases, sha256);
      // Checked after the lease exists: a sweep that moves the blob later sees the lease.
      const present = await stat(path).then(
        () => true,
        () => false,
      );
      if (present) return lease;
      await lease.release();
      return null;
    },

    async *list(): AsyncIterable<BlobEntry> {
      for (const a of await readdir(root).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(a)) continue;
        for (const b of await readdir(join(root, a)).catch(() => [] as string[])) {
          for (const sha of await readdir(join(root, a, b)).catch(() => [] as string[])) {
            if (!SHA256.test(sha)) continue;
            const s = await stat(join(root, a, b, sha)).catch(() => null);
            if (s) yield { sha256: sha, mtimeMs: s.mtimeMs };
          }
        }
      }
    },

    async leased({ staleMs }) {
      const out = new Set<string>();
      const now = Date.now();
      for (const l of await leasesOf()) {
        const s = await stat(join(dirs.leases, l.name)).catch(() => null);
        if (s && now - s.mtimeMs < staleMs) out.add(l.sha);
      }
      return out;
    },

    async sweep(sha256, { graceMs }) {
      const path = blobPath(sha256);
      await mkdir(dirs.trash, { recursive: true });
      const trash = join(dirs.trash, `${sha256}.${randomUUID()}`);
      try {
        await rename(path, trash);
      } catch {
        return false; // already gone
      }
      const s = await stat(trash);
      const leased = (await leasesOf()).some((l) => l.sha === sha256);
      if (leased || Date.now() - s.mtimeMs < graceMs) {
        // An upload of these bytes is under way (or just rewrote them): put them back.
        // Identical content, so replacing an upload's fresh copy changes nothing.
        await rename(trash, path);
        return false;
      }
      await unlink(trash);
      return true;
    },

    async cleanStale({ olderThanMs }) {
      let removed = 0;
      const now = Date.now();
      // A gc that died mid-sweep left blobs in trash it had not decided on: put them back
      // (identical bytes if an upload rewrote them since) and let the next mark decide.
      for (const name of await readdir(dirs.trash).catch(() => [] as string[])) {
        const sha = name.slice(0, name.indexOf("."));
        if (SHA256.test(sha)) await rename(join(dirs.trash, name), blobPath(sha)).catch(() => {});
      }
      for (const dir of [dirs.tmp, dirs.leases]) {
        for (const name of await readdir(dir).catch(() => [] as string[])) {
          const s = await stat(join(dir, name)).catch(() => null);
          if (s && now - s.mtimeMs >= olderThanMs) {
            await rm(join(dir, name), { force: true });
            removed++;
          }
        }
      }
      return removed;
    },
  };
}

async function takeLease(dir: string, sha256: string): Promise<BlobLease> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${randomUUID()}.${sha256}`);
  await writeFile(file, "");
  return { release: () => rm(file, { force: true }) };
}
