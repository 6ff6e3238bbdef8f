import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createBranch } from "../src/branches/create.ts";
import { branchKeys } from "../src/branches/keys.ts";
import { requireProject } from "../src/branches/lookup.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { openBenchHome } from "./home.ts";

export interface StorageBench {
  fileMb: number;
  rawCopyS: number;
  uploadS: number;
  downloadS: number;
  uploadRatio: number;
  downloadRatio: number;
  /** Peak RSS growth of the process (server and client) during a generated 1 GB upload. */
  rss1GbUploadMb: number;
  createEmptyS: number;
  createWithObjectsS: number;
  objects: number;
  blobGb: number;
  blobFilesAddedByCreate: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const MB = 1024 * 1024;

async function fsyncFile(path: string) {
  const fh = await open(path, "r");
  await fh.sync().finally(() => fh.close());
}

async function countBlobs(root: string): Promise<number> {
  let n = 0;
  for (const a of await readdir(root).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of await readdir(join(root, a))) n += (await readdir(join(root, a, b))).length;
  }
  return n;
}

/** A generated stream of `total` bytes (distinct 1 MB chunks), never held whole. */
function generated(total: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(MB, total - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

/** POSTs a stream through curl (`-T -`: streamed from stdin, never buffered whole). */
async function curlUpload(url: string, key: string, body: Readable): Promise<void> {
  const child = spawn(
    "curl",
    [
      "-sS",
      "-f",
      "-X",
      "POST",
      "-T",
      "-",
      "-H",
      `apikey: ${key}`,
      "-H",
      "content-type: application/octet-stream",
      url,
    ],
    { stdio: ["pipe", "ignore", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await pipeline(body, child.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`curl upload failed (exit ${code})`);
}

/**
 * Storage through the HTTP API: a 100 MB upload/download against a raw disk copy (with
 * fsync, as the blob store does), RSS during a 1 GB upload, and branch create time with
 * 1,000 stored objects (~1 GB of blobs) against an empty project: flat, no file copied.
 */
export async function benchStorage(o: { fileMb?: number; objects?: number } = {}) {
  const fileMb = o.fileMb ?? 100;
  const objects = o.objects ?? 1000;
  const h = await openBenchHome({ baseDir: tmpdir(), prefix: "bough-bench-storage-", log });
  const app = buildApp(h.ctx);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const scratch = join(tmpdir(), `bough-bench-storage-${process.pid}`);
  try {
    const port = (app.server.address() as { port: number }).port;
    const api = `http://127.0.0.1:${port}/p/${DEFAULT_PROJECT}/b/main/storage/v1`;
    const { secretKey } = await branchKeys(h.ctx, { project: DEFAULT_PROJECT, name: "main" });
    const headers = { apikey: secretKey, authorization: `Bearer ${secretKey}` };
    const call = async (path: string, init: RequestInit & { duplex?: string }) => {
      const res = await fetch(`${api}${path}`, {
        ...init,
        headers: { ...headers, ...init.headers },
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res;
    };
    await call("/bucket", {
      method: "POST",
      body: JSON.stringify({ id: "bench" }),
      headers: { "content-type": "application/json" },
    });
    const upload = (name: string, body: Readable) =>
      call(`/object/bench/${name}`, {
        method: "POST",
        body: Readable.toWeb(body) as ReadableStream,
        duplex: "half",
        headers: { "content-type": "application/octet-stream" },
      }).then((r) => r.text());

    await writeFile(`${scratch}.src`, randomBytes(fileMb * MB));
    let t = performance.now();
    await pipeline(createReadStream(`${scratch}.src`), createWriteStream(`${scratch}.copy`));
    await fsyncFile(`${scratch}.copy`);
    const rawCopyS = (performance.now() - t) / 1000;
    t = performance.now();
    await upload("big.bin", createReadStream(`${scratch}.src`));
    const uploadS = (performance.now() - t) / 1000;
    t = performance.now();
    const res = await call("/object/bench/big.bin", { method: "GET" });
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(`${scratch}.down`));
    await fsyncFile(`${scratch}.down`);
    const downloadS = (performance.now() - t) / 1000;
    log(
      `100 MB: copy ${rawCopyS.toFixed(2)} s, upload ${uploadS.toFixed(2)} s, download ${downloadS.toFixed(2)} s`,
    );

    // The client is curl in its own process (Readable.toWeb buffers ahead in Node 20), so
    // the RSS measured here is the server's.
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    await curlUpload(`${api}/object/bench/huge.bin`, secretKey, generated(1024 * MB));
    clearInterval(sampler);
    const rss1GbUploadMb = (peak - base) / MB;
    log(`1 GB upload: RSS +${rss1GbUploadMb.toFixed(1)} MB`);

    t = performance.now();
    await createBranch(h.ctx, { project: DEFAULT_PROJECT, name: "empty-ish", switchTo: false });
    const createEmptyS = (performance.now() - t) / 1000;
    for (let i = 0; i < objects; i++) await upload(`many/${i}.bin`, generated(MB));
    const blobRoot = join(h.ctx.paths.projectDir(requireProject(h.ctx, DEFAULT_PROJECT)), "blobs");
    const before = await countBlobs(blobRoot);
    t = performance.now();
    await createBranch(h.ctx, { project: DEFAULT_PROJECT, name: "with-objects", switchTo: false });
    const createWithObjectsS = (performance.now() - t) / 1000;
    const added = (await countBlobs(blobRoot)) - before;
    return {
      fileMb,
      rawCopyS,
      uploadS,
      downloadS,
      uploadRatio: uploadS / rawCopyS,
      downloadRatio: downloadS / rawCopyS,
      rss1GbUploadMb,
      createEmptyS,
      createWithObjectsS,
      objects,
      blobGb: (objects * MB + 1024 * MB + fileMb * MB) / 1024 ** 3,
      blobFilesAddedByCreate: added,
    } satisfies StorageBench;
  } finally {
    await app.close();
    for (const f of ["src", "copy", "down"]) await rm(`${scratch}.${f}`, { force: true });
    await h.close();
  }
}

/** The storage result as a small text table. */
export function storageTable(s: StorageBench): string {
  const f = (n: number) => n.toFixed(2);
  return [
    `storage: ${s.fileMb} MB file — raw copy ${f(s.rawCopyS)} s, upload ${f(s.uploadS)} s (×${f(s.uploadRatio)}), download ${f(s.downloadS)} s (×${f(s.downloadRatio)})`,
    `storage: 1 GB generated upload raised RSS by ${s.rss1GbUploadMb.toFixed(1)} MB`,
    `storage: branch create ${f(s.createEmptyS)} s without objects, ${f(s.createWithObjectsS)} s with ${s.objects} objects (${f(s.blobGb)} GB of blobs), blob files added by create: ${s.blobFilesAddedByCreate}`,
  ].join("\n");
}
