import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createBranch } from "../src/branches/create.ts";
import { deleteBranch } from "../src/branches/delete.ts";
import { requireProject } from "../src/branches/lookup.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { storageGc } from "../src/branches/storage-gc.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { query, rows } from "./helpers/sql.ts";

// One project for the whole file (clusters are expensive): main, and branches of it.
const P = "storep";
const s = platformServer(P);
const { urlOf, keysOf } = s;
const client = (branch: string, which: "publishableKey" | "secretKey" = "secretKey") =>
  s.client(branch, which);
const text = async (b: Blob | null) => (b ? await b.text() : null);

/** Files in the project's blob store (fan-out directories only). */
async function blobCount(): Promise<number> {
  const root = join(s.t.ctx.paths.projectDir(requireProject(s.t.ctx, P)), "blobs");
  let n = 0;
  for (const a of await readdir(root)) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of await readdir(join(root, a))) n += (await readdir(join(root, a, b))).length;
  }
  return n;
}

before(() => s.start());
after(() => s.stop());

describe("storage (Supabase Storage-compatible) through the real supabase-js", () => {
  test("buckets: create, get, list, update, empty, delete", async () => {
    const sb = await client("main");
    assert.deepEqual(await sb.storage.createBucket("docs", { public: false }), {
      data: { name: "docs" },
      error: null,
    });
    const created = await sb.storage.createBucket("avatars", {
      public: true,
      fileSizeLimit: "1KB",
      allowedMimeTypes: ["image/*", "text/plain"],
    });
    assert.equal(created.error, null);
    const got = await sb.storage.getBucket("avatars");
    assert.equal(got.data?.public, true);
    assert.equal(got.data?.file_size_limit, 1024);
    assert.deepEqual(got.data?.allowed_mime_types, ["image/*", "text/plain"]);
    const list = await sb.storage.listBuckets();
    assert.deepEqual(
      list.data?.map((b) => b.id),
      ["avatars", "docs"],
    );
    assert.equal((await sb.storage.createBucket("tmp")).error, null);
    const upd = await sb.storage.updateBucket("tmp", { public: true, fileSizeLimit: 10 });
    assert.deepEqual(upd.data, { message: "Successfully updated" });
    assert.equal((await sb.storage.getBucket("tmp")).data?.file_size_limit, 10);
    await sb.storage.from("tmp").upload("x.txt", Buffer.from("x"));
    const notEmpty = await sb.storage.deleteBucket("tmp");
    assert.equal((notEmpty.error as { status?: number } | null)?.status, 409);
    assert.deepEqual((await sb.storage.emptyBucket("tmp")).data, {
      message: "Successfully emptied",
    });
    assert.deepEqual((await sb.storage.deleteBucket("tmp")).data, {
      message: "Successfully deleted",
    });
    const gone = await sb.storage.getBucket("tmp");
    assert.equal((gone.error as { status?: number } | null)?.status, 404);
  });

  test("objects: upload (x-upsert), download, update, list with folders, move, copy, remove", async () => {
    const docs = (await client("main")).storage.from("docs");
    const up = await docs.upload("a/one.txt", Buffer.from("one"), { contentType: "text/plain" });
    assert.equal(up.error, null);
    assert.deepEqual([up.data?.path, up.data?.fullPath], ["a/one.txt", "docs/a/one.txt"]);
    const dup = await docs.upload("a/one.txt", Buffer.from("again"));
    assert.equal((dup.error as { status?: number } | null)?.status, 409);
    assert.equal(
      (await docs.upload("a/one.txt", Buffer.from("ONE"), { upsert: true })).error,
      null,
    );
    assert.equal(await text((await docs.download("a/one.txt")).data), "ONE");
    assert.equal((await docs.update("a/one.txt", Buffer.from("1"))).error, null);
    assert.equal(await text((await docs.download("a/one.txt")).data), "1");
    await docs.upload("a/b/deep.txt", Buffer.from("deep"));
    // A Blob goes as multipart/form-data (as in a browser); its bytes and type are kept.
    const form = await docs.upload(
      "blob.json",
      new Blob(['{"x":1}'], { type: "application/json" }),
    );
    assert.equal(form.error, null);
    const back = await docs.download("blob.json");
    assert.deepEqual([await text(back.data), back.data?.type], ['{"x":1}', "application/json"]);
    await docs.remove(["blob.json"]);
    await docs.upload("top.txt", Buffer.from("top"));

    const root = await docs.list();
    assert.deepEqual(
      root.data?.map((e) => [e.name, e.id === null]),
      [
        ["a", true],
        ["top.txt", false],
      ],
    );
    const inA = await docs.list("a");
    assert.deepEqual(
      inA.data?.map((e) => e.name),
      ["b", "one.txt"],
    );
    assert.deepEqual(
      (await docs.list("a", { search: "ON" })).data?.map((e) => e.name),
      ["one.txt"],
    );
    assert.deepEqual(
      (await docs.list("a", { limit: 1, offset: 1 })).data?.map((e) => e.name),
      ["one.txt"],
    );

    assert.equal((await docs.move("top.txt", "moved/top.txt")).error, null);
    assert.equal(
      ((await docs.download("top.txt")).error as { status?: number } | null)?.status,
      404,
    );
    const copied = await docs.copy("moved/top.txt", "copy.txt");
    assert.equal(copied.data?.path, "docs/copy.txt");
    assert.equal(await text((await docs.download("copy.txt")).data), "top");
    const removed = await docs.remove(["copy.txt", "moved/top.txt"]);
    assert.deepEqual(removed.data?.map((o) => o.name).sort(), ["copy.txt", "moved/top.txt"]);
    assert.equal(
      (
        await rows<{ n: number }>(
          s.t.url(P, "main"),
          "SELECT count(*)::int AS n FROM storage.objects WHERE bucket_id = 'docs'",
        )
      )[0].n,
      2,
    );
  });

  test("RLS on storage.objects as Supabase writes it: a user writes only their folder", async () => {
    await query(
      s.t.url(P, "main"),
      `CREATE POLICY own_folder ON storage.objects FOR INSERT TO authenticated
         WITH CHECK (bucket_id = 'avatars' AND (storage.foldername(name))[1] = auth.uid()::text);
       CREATE POLICY public_read ON storage.objects FOR SELECT TO anon, authenticated
         USING (bucket_id = 'avatars');`,
    );
    const sb = await client("main", "publishableKey");
    const signed = await sb.auth.signUp({ email: "u@example.com", password: "correct horse" });
    const uid = signed.data.user?.id;
    assert.ok(uid);
    const mine = await sb.storage.from("avatars").upload(`${uid}/me.txt`, Buffer.from("me"), {
      contentType: "text/plain",
    });
    assert.equal(mine.error, null);
    const theirs = await sb.storage.from("avatars").upload("someone/else.txt", Buffer.from("x"), {
      contentType: "text/plain",
    });
    assert.equal((theirs.error as { status?: number } | null)?.status, 403);
    const anon = await client("main", "publishableKey");
    assert.equal(
      await text((await anon.storage.from("avatars").download(`${uid}/me.txt`)).data),
      "me",
    );
    // The private bucket is invisible to anon: no policy lets it read there.
    assert.equal((await anon.storage.from("docs").download("a/one.txt")).data, null);
    const owner = await rows<{ owner: string }>(
      s.t.url(P, "main"),
      "SELECT owner::text FROM storage.objects WHERE name = $1",
      [`${uid}/me.txt`],
    );
    assert.deepEqual(owner, [{ owner: uid }]);
  });

  test("branches share blobs: create copies none, changes stay on the branch, reset brings them back", async () => {
    const before = await blobCount();
    await s.t.branch(P, "feat");
    assert.equal(await blobCount(), before);
    const feat = (await client("feat")).storage.from("docs");
    const main = (await client("main")).storage.from("docs");
    assert.equal(await text((await feat.download("a/one.txt")).data), "1");
    assert.equal((await feat.remove(["a/one.txt"])).error, null);
    assert.equal(
      (await feat.upload("a/b/deep.txt", Buffer.from("branch"), { upsert: true })).error,
      null,
    );
    assert.equal(await text((await main.download("a/one.txt")).data), "1");
    assert.equal(await text((await main.download("a/b/deep.txt")).data), "deep");
    assert.equal(await text((await feat.download("a/b/deep.txt")).data), "branch");
    await resetBranch(s.t.ctx, { project: P, name: "feat" });
    assert.equal(await text((await feat.download("a/one.txt")).data), "1");
    assert.equal(await text((await feat.download("a/b/deep.txt")).data), "deep");
  });

  test("signed URLs (expiring, scoped to their branch) and public URLs", async () => {
    const docs = (await client("main")).storage.from("docs");
    const signed = await docs.createSignedUrl("a/one.txt", 60);
    assert.equal(signed.error, null);
    const url = signed.data?.signedUrl ?? "";
    const ok = await fetch(url);
    assert.deepEqual([ok.status, await ok.text()], [200, "1"]);
    const tampered = await fetch(url.replace("a/one.txt", "a/b/deep.txt"));
    assert.equal(tampered.status, 400);
    await tampered.body?.cancel();
    // The same token on another branch (which has the same file) is refused.
    const onFeat = await fetch(url.replace("/b/main/", "/b/feat/"));
    assert.equal(onFeat.status, 400);
    await onFeat.body?.cancel();
    const expired = await docs.createSignedUrl("a/one.txt", 1);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await fetch(expired.data?.signedUrl ?? "");
    assert.equal(late.status, 400);
    await late.body?.cancel();
    const anon = await client("main", "publishableKey");
    const avatars = anon.storage.from("avatars");
    const first = (await avatars.list((await avatars.list()).data?.[0]?.name)).data?.[0];
    assert.ok(first);
    // A public bucket's files need no key at all; a private bucket's are not public.
    const dir = (await avatars.list()).data?.[0]?.name;
    const pub = await fetch(avatars.getPublicUrl(`${dir}/${first.name}`).data.publicUrl);
    assert.deepEqual([pub.status, await pub.text()], [200, "me"]);
    const priv = await fetch(docs.getPublicUrl("a/one.txt").data.publicUrl);
    assert.equal(priv.status, 404);
    await priv.body?.cancel();
  });

  test("merge brings a bucket's changed settings back, never objects; schema-only has buckets, no objects", async () => {
    await s.t.branch(P, "cfg");
    const cfg = await client("cfg");
    assert.equal((await cfg.storage.updateBucket("docs", { public: true })).error, null);
    await cfg.storage.from("docs").upload("cfg-only.txt", Buffer.from("not merged"));
    const objectsBefore = await rows(
      s.t.url(P, "main"),
      "SELECT id, name, sha256 FROM storage.objects ORDER BY id",
    );
    await mergeBranch(s.t.ctx, { project: P, name: "cfg" });
    const buckets = await rows<{ id: string; public: boolean }>(
      s.t.url(P, "main"),
      "SELECT id, public FROM storage.buckets ORDER BY id",
    );
    assert.deepEqual(buckets, [
      { id: "avatars", public: true },
      { id: "docs", public: true },
    ]);
    assert.deepEqual(
      await rows(s.t.url(P, "main"), "SELECT id, name, sha256 FROM storage.objects ORDER BY id"),
      objectsBefore,
    );
    await createBranch(s.t.ctx, {
      project: P,
      name: "shape",
      mode: "schema-only",
      switchTo: false,
    });
    const shape = await client("shape");
    assert.deepEqual(
      (await shape.storage.listBuckets()).data?.map((b) => b.id),
      ["avatars", "docs"],
    );
    assert.deepEqual((await shape.storage.from("docs").list("a")).data, []);
  });

  test("gc keeps what T0 references, removes a deleted branch's blobs, and an upload during gc survives", async () => {
    await storageGc(s.t.ctx, { project: P, graceMs: 0 }); // earlier tests' replaced files
    const main = (await client("main")).storage.from("docs");
    await main.upload("t0only.txt", Buffer.from("kept by T0"));
    await s.t.branch(P, "snap");
    const snap = (await client("snap")).storage.from("docs");
    // Now only snap's T0 references these bytes.
    await main.remove(["t0only.txt"]);
    await snap.remove(["t0only.txt"]);
    await snap.upload("branch-only.txt", Buffer.from("garbage soon"));
    const withBranch = await blobCount();
    const [kept] = await storageGc(s.t.ctx, { project: P, graceMs: 0 });
    assert.equal(kept.removed, 0, JSON.stringify(kept));
    await resetBranch(s.t.ctx, { project: P, name: "snap" });
    assert.equal(await text((await snap.download("t0only.txt")).data), "kept by T0");
    await deleteBranch(s.t.ctx, { project: P, name: "snap" });
    // Deleted: its blob is unreferenced, everything else is kept.
    const [r1] = await storageGc(s.t.ctx, { project: P, graceMs: 0 });
    assert.equal(r1.removed, 2, JSON.stringify(r1));
    assert.equal(await blobCount(), withBranch - 2);
    assert.equal(await text((await main.download("a/one.txt")).data), "1");

    // The same bytes again, uploaded slowly: gc runs while the body is still streaming.
    await s.t.branch(P, "snap2");
    const snap2 = (await client("snap2")).storage.from("docs");
    await snap2.upload("again.txt", Buffer.from("same bytes"));
    await resetBranch(s.t.ctx, { project: P, name: "snap2" });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(new TextEncoder().encode("same "));
        await gate;
        c.enqueue(new TextEncoder().encode("bytes"));
        c.close();
      },
    });
    const { secretKey } = await keysOf("main");
    const uploading = fetch(`${urlOf("main")}/storage/v1/object/docs/slow.txt`, {
      method: "POST",
      headers: { apikey: secretKey, "content-type": "text/plain" },
      body,
      duplex: "half",
    } as RequestInit);
    const [r2] = await storageGc(s.t.ctx, { project: P, graceMs: 0 });
    assert.equal(r2.removed, 1, JSON.stringify(r2));
    release();
    assert.equal((await uploading).status, 200);
    assert.equal(await text((await main.download("slow.txt")).data), "same bytes");
    const [r3] = await storageGc(s.t.ctx, { project: P, graceMs: 0 });
    assert.equal(r3.removed, 0);
    assert.equal(await text((await main.download("slow.txt")).data), "same bytes");
  });

  test("bad input gets a 4xx JSON error and changes nothing", async () => {
    const { secretKey } = await keysOf("main");
    const count = async () =>
      (
        await rows<{ n: number }>(
          s.t.url(P, "main"),
          "SELECT count(*)::int AS n FROM storage.objects",
        )
      )[0].n;
    const n0 = await count();
    const blobs0 = await blobCount();
    const put = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(`${urlOf("main")}/storage/v1/object/${path}`, {
        method: "POST",
        headers: { apikey: secretKey, "content-type": "text/plain", ...headers },
        body,
      });
    const cases: [string, Promise<Response>, number][] = [
      ["oversized", put("avatars/big.txt", "x".repeat(2000)), 413],
      ["MIME", put("avatars/a.pdf", "x", { "content-type": "application/pdf" }), 415],
      ["traversal", put("docs/a%2F..%2F..%2Fetc%2Fpasswd", "x"), 400],
      ["backslash", put("docs/a%5Cb", "x"), 400],
      ["unknown bucket", put("nope/a.txt", "x"), 404],
      ["wrong key", put("docs/k.txt", "x", { apikey: "sb_secret_wrong" }), 401],
    ];
    for (const [what, res, status] of cases) {
      const r = await res;
      const body = (await r.json()) as { statusCode: string; message: string };
      assert.equal(r.status, status, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.statusCode, String(status), what);
      assert.equal(typeof body.message, "string", what);
    }
    assert.equal(await count(), n0);
    assert.equal(await blobCount(), blobs0);
    assert.deepEqual(
      await readdir(join(s.t.ctx.paths.projectDir(requireProject(s.t.ctx, P)), "blobs", "tmp")),
      [],
    );
  });
});
