import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import pg from "pg";
import { createActivity } from "../src/branches/activity.ts";
import { createBranch } from "../src/branches/create.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { stopBranchOp } from "../src/branches/start-stop.ts";
import { startProxy } from "../src/interfaces/proxy/server.ts";
import { openBenchHome } from "./home.ts";

const log = (line: string) => process.stderr.write(`${line}\n`);
const execFileAsync = promisify(execFile);
const PGBENCH = "/usr/bin/pgbench";

interface PgbenchSide {
  directTps: number;
  proxyTps: number;
  ratio: number;
}

export interface ProxyBench {
  seconds: number;
  clients: number;
  selectOnly: PgbenchSide | null;
  tpcbLike: PgbenchSide | null;
  /** Stopped branch through the proxy: connect → first result (start included). */
  coldStart: { runs: number; p50Ms: number; p99Ms: number };
  /** Running branch through the proxy: connect → first result. */
  warmConnect: { runs: number; p50Ms: number; p99Ms: number };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { runs: ms.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
};

/**
 * The proxy against direct connections: pgbench select-only and tpcb-like (scale 1, a few
 * seconds each, same clients) on main through the proxy and on its own port, side by side;
 * then connect → first result through the proxy to a stopped branch (lazy start) and to a
 * running one.
 */
export async function benchProxy(o: { seconds?: number; runs?: number } = {}): Promise<ProxyBench> {
  const seconds = o.seconds ?? 5;
  const runs = o.runs ?? 10;
  const clients = 4;
  const h = await openBenchHome({ baseDir: tmpdir(), prefix: "bough-bench-proxy-", log });
  const proxy = await startProxy(h.ctx, {
    project: DEFAULT_PROJECT,
    port: 0,
    activity: createActivity(),
  });
  try {
    const project = requireProject(h.ctx, DEFAULT_PROJECT);
    const main = requireBranch(h.ctx, project, "main");
    const env = { ...process.env, PGPASSWORD: project.password, PGHOST: "127.0.0.1" };
    const pgbench = async (port: number, user: string, args: string[]) => {
      const { stdout } = await execFileAsync(
        PGBENCH,
        ["-p", String(port), "-U", user, ...args, "postgres"],
        { env, maxBuffer: 16 << 20 },
      );
      return stdout;
    };
    const tps = async (port: number, user: string, mode: string[]) => {
      const out = await pgbench(port, user, [
        ...mode,
        "-c",
        String(clients),
        "-j",
        "2",
        "-T",
        String(seconds),
      ]);
      const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
      if (!m) throw new Error(`no tps in pgbench output:\n${out}`);
      return Number(m[1]);
    };
    let selectOnly: PgbenchSide | null = null;
    let tpcbLike: PgbenchSide | null = null;
    if (existsSync(PGBENCH)) {
      await pgbench(main.port, "postgres", ["-i", "-s", "1", "-q"]);
      const side = async (mode: string[], what: string): Promise<PgbenchSide> => {
        // Direct first, then the proxy, then direct again: the better direct run counts,
        // so a noisy neighbour does not flatter the proxy.
        const d1 = await tps(main.port, "postgres", mode);
        const proxyTps = await tps(proxy.port, "postgres.main", mode);
        const d2 = await tps(main.port, "postgres", mode);
        const directTps = Math.max(d1, d2);
        log(
          `pgbench ${what}: direct ${directTps.toFixed(0)} tps, proxy ${proxyTps.toFixed(0)} tps`,
        );
        return { directTps, proxyTps, ratio: proxyTps / directTps };
      };
      selectOnly = await side(["-S"], "select-only");
      tpcbLike = await side([], "tpcb-like");
    } else {
      log(`${PGBENCH} is absent (apt-get install postgresql-client): pgbench rows skipped`);
    }

    await createBranch(h.ctx, { project: DEFAULT_PROJECT, name: "cold", switchTo: false });
    const connectMs = async () => {
      const t0 = performance.now();
      const c = new pg.Client({
        host: "127.0.0.1",
        port: proxy.port,
        user: "postgres.cold",
        password: project.password,
        database: "postgres",
      });
      await c.connect();
      await c.query("SELECT 1");
      const ms = performance.now() - t0;
      await c.end();
      return ms;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      await stopBranchOp(h.ctx, { project: DEFAULT_PROJECT, name: "cold" });
      cold.push(await connectMs());
      warm.push(await connectMs());
      log(`cold start ${i + 1}/${runs}: ${cold[i].toFixed(0)} ms (warm ${warm[i].toFixed(1)} ms)`);
    }
    return {
      seconds,
      clients,
      selectOnly,
      tpcbLike,
      coldStart: stats(cold),
      warmConnect: stats(warm),
    };
  } finally {
    await proxy.close();
    await h.close();
  }
}

export function proxyTable(r: ProxyBench): string {
  const row = (name: string, s: PgbenchSide | null) =>
    s
      ? `  ${name.padEnd(12)} direct ${s.directTps.toFixed(0).padStart(7)} tps   proxy ${s.proxyTps.toFixed(0).padStart(7)} tps   ratio ×${s.ratio.toFixed(2)} (target ≥0.9)`
      : `  ${name.padEnd(12)} skipped (no pgbench)`;
  return [
    `Postgres proxy, pgbench scale 1, ${r.clients} clients, ${r.seconds} s each:`,
    row("select-only", r.selectOnly),
    row("tpcb-like", r.tpcbLike),
    `  connect → first result through the proxy, ${r.coldStart.runs} runs:`,
    `    stopped branch (lazy start): p50 ${r.coldStart.p50Ms.toFixed(0)} ms, p99 ${r.coldStart.p99Ms.toFixed(0)} ms`,
    `    running branch:              p50 ${r.warmConnect.p50Ms.toFixed(1)} ms, p99 ${r.warmConnect.p99Ms.toFixed(1)} ms`,
  ].join("\n");
}
