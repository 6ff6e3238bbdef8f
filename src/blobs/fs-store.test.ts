import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { after, test } from "node:test";
import { fsBlobStore } from "./fs-store.ts";

const root = await mkdtemp(join(tmpdir(), "bough-blobs-"));
after(() => rm(root, { recursive: true, force: true }));
const store = fsBlobStore(root);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const all = async () => {
  const out: string[] = [];
  for await (const e of store.list()) out.push(e.sha256);
  return out.sort();
};
const age = (s: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  return utimes(join(root, s.slice(0, 2), s.slice(2, 4), s), t, t);
};

test("put stores content-addressed bytes, get streams them back, a lease is held until released", async () => {
  const bytes = Buffer.from("hello blobs");
  const { ref, lease } = await store.put(Readable.from([bytes]));
  assert.deepEqual(ref, { sha256: sha(bytes), size: 11 });
  assert.deepEqual([...(await store.leased({ staleMs: 60_000 }))], [ref.sha256]);
  await lease.release();
  assert.equal((await store.leased({ staleMs: 60_000 })).size, 0);
  assert.deepEqual(await buffer(await store.get(ref.sha256)), bytes);
  assert.equal(await store.has(ref.sha256), true);
  assert.deepEqual(await all(), [ref.sha256]);
  assert.deepEqual(await readdir(join(root, "tmp")), []);
});

test("an oversized put is refused while streaming and leaves no temp file", async () => {
  const tooLarge = () => new Error("too large");
  await assert.rejects(
    store.put(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { maxBytes: 15, tooLarge }),
    /too large/,
  );
  assert.deepEqual(await readdir(join(root, "tmp")), []);
});

test("sweep removes an old unleased blob but keeps a leased or freshly written one", async () => {
  const a = Buffer.from("garbage");
  const { ref, lease } = await store.put(Readable.from([a]));
  await age(ref.sha256, 120_000);
  // Leased (an upload of these bytes not yet committed): kept.
  assert.equal(await store.sweep(ref.sha256, { graceMs: 60_000 }), false);
  assert.equal(await store.has(ref.sha256), true);
  await lease.release();
  assert.equal(await store.sweep(ref.sha256, { graceMs: 60_000 }), true);
  assert.equal(await store.has(ref.sha256), false);
  // The same bytes uploaded again after a sweep come back (rename always rewrites).
  const again = await store.put(Readable.from([a]));
  await again.lease.release();
  assert.equal(await store.has(ref.sha256), true);
  // Written within the grace period: kept.
  assert.equal(await store.sweep(ref.sha256, { graceMs: 60_000 }), false);
});

test("retain leases an existing blob and refuses a missing one", async () => {
  const { ref, lease } = await store.put(Readable.from([Buffer.from("kept")]));
  await lease.release();
  const held = await store.retain(ref.sha256);
  assert.ok(held);
  await age(ref.sha256, 120_000);
  assert.equal(await store.sweep(ref.sha256, { graceMs: 60_000 }), false);
  await held.release();
  assert.equal(await store.retain("0".repeat(64)), null);
});
