import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { deployFunction } from "../src/branches/functions.ts";
import { branchKeys } from "../src/branches/keys.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { denoBinary } from "../src/platform/functions/deno.ts";
import { openBenchHome } from "./home.ts";

export interface FunctionsBench {
  coldRuns: number;
  warmRequests: number;
  boughColdMs: number;
  plainColdMs: number;
  boughWarmP50Ms: number;
  boughWarmP99Ms: number;
  plainWarmP50Ms: number;
  plainWarmP99Ms: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const HANDLER = `Deno.serve(() => new Response("ok"));`;

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function timeRequests(url: string, init: RequestInit, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(url, init);
    await r.text();
    out.push(performance.now() - t);
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** The baseline: the same handler as a plain `deno run --allow-net` process, hit directly. */
async function plainDeno(dir: string, coldRuns: number, warm: number) {
  const cold: number[] = [];
  let warmTimes: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    const port = await freePort();
    const file = join(dir, "plain.ts");
    await writeFile(
      file,
      `Deno.serve({ port: ${port}, hostname: "127.0.0.1" }, () => new Response("ok"));`,
    );
    const t = performance.now();
    const proc = spawn(denoBinary(), ["run", "--allow-net", "--no-prompt", file], {
      env: { DENO_DIR: join(dir, "cache"), NO_COLOR: "1" },
      stdio: "ignore",
    });
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/`).then(
        (r) => r.text().then(() => true),
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    cold.push(performance.now() - t);
    if (i === coldRuns - 1) warmTimes = await timeRequests(`http://127.0.0.1:${port}/`, {}, warm);
    proc.kill("SIGKILL");
  }
  return { cold, warm: warmTimes };
}

/** Cold start (first request after a deploy changed the code) and warm latency through bough's server. */
export async function benchFunctions(
  o: { coldRuns?: number; warmRequests?: number } = {},
): Promise<FunctionsBench> {
  const coldRuns = o.coldRuns ?? 5;
  const warmRequests = o.warmRequests ?? 500;
  const h = await openBenchHome({ baseDir: tmpdir(), prefix: "bough-bench-fn-", log });
  const dir = await mkdtemp(join(tmpdir(), "bough-bench-fn-src-"));
  const app = buildApp(h.ctx);
  try {
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const keys = await branchKeys(h.ctx, { project: DEFAULT_PROJECT, name: "main" });
    const url = `${base}/p/${DEFAULT_PROJECT}/b/main/functions/v1/bench`;
    const init = { headers: { apikey: keys.publishableKey } };
    await timeRequests(`${base}/p/${DEFAULT_PROJECT}/b/main/rest/v1/`, init, 1);
    const file = join(dir, "index.ts");
    const cold: number[] = [];
    for (let i = 0; i < coldRuns; i++) {
      // A changed comment is a new version: the warm process is replaced by a new one.
      await writeFile(file, `// run ${i}\n${HANDLER}`);
      await deployFunction(h.ctx, {
        project: DEFAULT_PROJECT,
        branch: "main",
        name: "bench",
        file,
      });
      cold.push((await timeRequests(url, init, 1))[0]);
    }
    const warm = await timeRequests(url, init, warmRequests);
    log("functions: baseline plain deno run");
    const plain = await plainDeno(dir, coldRuns, warmRequests);
    return {
      coldRuns,
      warmRequests,
      boughColdMs: median(cold),
      plainColdMs: median(plain.cold),
      boughWarmP50Ms: quantile(warm, 0.5),
      boughWarmP99Ms: quantile(warm, 0.99),
      plainWarmP50Ms: quantile(plain.warm, 0.5),
      plainWarmP99Ms: quantile(plain.warm, 0.99),
    };
  } finally {
    await app.close();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function functionsTable(b: FunctionsBench): string {
  const f = (n: number) => n.toFixed(2);
  const x = (a: number, p: number) => `×${(a / p).toFixed(2)}`;
  return [
    `functions: cold start (median of ${b.coldRuns}) bough ${f(b.boughColdMs)} ms vs plain deno run ${f(b.plainColdMs)} ms (${x(b.boughColdMs, b.plainColdMs)})`,
    `functions: warm p50 (${b.warmRequests} requests) bough ${f(b.boughWarmP50Ms)} ms vs plain ${f(b.plainWarmP50Ms)} ms (${x(b.boughWarmP50Ms, b.plainWarmP50Ms)}); p99 ${f(b.boughWarmP99Ms)} ms vs ${f(b.plainWarmP99Ms)} ms (${x(b.boughWarmP99Ms, b.plainWarmP99Ms)})`,
  ].join("\n");
}
