import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import pg from "pg";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { poolBranchDb } from "../src/platform/branch-db.ts";
import { ensureRequestRoles } from "../src/platform/roles.ts";
import { startRestApp, TEST_KEYS } from "../test/helpers/rest-app.ts";
import { openBenchHome } from "./home.ts";

const ROWS = 10_000;
const CATEGORIES = 100;

interface Side {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

export interface RestBenchResult {
  rows: number;
  seconds: number;
  workloads: { name: string; clients: number; api: Side; pg: Side; ratio: number }[];
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** `concurrency` loops calling fn for `seconds`; requests/s and latency quantiles. */
async function drive(o: {
  seconds: number;
  concurrency: number;
  fn: (i: number) => Promise<void>;
}): Promise<Side> {
  const latencies: number[] = [];
  const end = performance.now() + o.seconds * 1000;
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await o.fn(i++);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    requests: latencies.length,
  };
}

/**
 * The data API against the same query over a direct `pg` connection pool, on main of a
 * throwaway home: GET by primary key and a filtered, ordered list of 20 rows, with one
 * client (the per-request cost) and with 8 (throughput). The HTTP client (fetch) runs in the
 * same process as the server, as the pg client does, so both sides pay for their client.
 * The API side runs as service_role through the test harness's key mapping (the real
 * server's key lookup is not part of this measurement).
 */
export async function benchRest(
  o: { seconds?: number; clients?: number[] } = {},
): Promise<RestBenchResult> {
  const seconds = o.seconds ?? 5;
  const clients = o.clients ?? [1, 8];
  const concurrency = Math.max(...clients);
  const log = (line: string) => process.stderr.write(`[rest] ${line}\n`);
  const { ctx, close } = await openBenchHome({
    baseDir: tmpdir(),
    prefix: "bough-bench-rest-",
    log,
  });
  try {
    const project = requireProject(ctx, DEFAULT_PROJECT);
    const url = branchUrl(project, requireBranch(ctx, project, "main"));
    await withClient(url, async (c) => {
      await ensureRequestRoles(c);
      await c.query(`CREATE TABLE public.items (id int PRIMARY KEY, category int NOT NULL, name text NOT NULL, price numeric NOT NULL);
        INSERT INTO public.items SELECT i, i % ${CATEGORIES}, 'item ' || i, (i % 997) / 10.0 FROM generate_series(1, ${ROWS}) i;
        CREATE INDEX ON public.items (category, id); ANALYZE public.items;`);
    });
    const db = poolBranchDb(url, { max: concurrency });
    const direct = new pg.Pool({ connectionString: url, max: concurrency });
    const { app, url: api } = await startRestApp({ db });
    const headers = { apikey: TEST_KEYS.service };
    const get = async (path: string) => {
      const res = await fetch(`${api}/rest/v1/${path}`, { headers });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      await res.text();
    };
    const key = (i: number) => 1 + ((i * 7919) % ROWS);
    const workloads = [
      {
        name: "GET by primary key",
        api: (i: number) => get(`items?id=eq.${key(i)}&select=*`),
        pg: async (i: number) => {
          await direct.query("SELECT * FROM public.items WHERE id = $1", [key(i)]);
        },
      },
      {
        name: "filtered list (20 rows)",
        api: (i: number) => get(`items?category=eq.${i % CATEGORIES}&order=id&limit=20`),
        pg: async (i: number) => {
          await direct.query(
            "SELECT * FROM public.items WHERE category = $1 ORDER BY id LIMIT 20",
            [i % CATEGORIES],
          );
        },
      },
    ];
    const results: RestBenchResult["workloads"] = [];
    try {
      for (const w of workloads) {
        log(`${w.name}: warming up`);
        await drive({ seconds: 1, concurrency, fn: w.api });
        await drive({ seconds: 1, concurrency, fn: w.pg });
        for (const n of clients) {
          log(`${w.name}, ${n} client(s): measuring ${seconds} s each side`);
          const apiSide = await drive({ seconds, concurrency: n, fn: w.api });
          const pgSide = await drive({ seconds, concurrency: n, fn: w.pg });
          results.push({
            name: w.name,
            clients: n,
            api: apiSide,
            pg: pgSide,
            ratio: pgSide.rps / apiSide.rps,
          });
        }
      }
    } finally {
      await app.close();
      await db.end();
      await direct.end();
    }
    const out = { rows: ROWS, seconds, workloads: results };
    process.stdout.write(`${restTable(out)}\n`);
    return out;
  } finally {
    await close();
  }
}

export function restTable(r: RestBenchResult): string {
  const table = new Table({
    head: [
      "data API",
      "clients",
      "API req/s",
      "API p50",
      "API p99",
      "pg req/s",
      "pg p50",
      "pg p99",
      "pg/API",
    ],
    style: { head: [], border: [] },
  });
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  for (const w of r.workloads) {
    table.push([
      w.name,
      String(w.clients),
      w.api.rps.toFixed(0),
      ms(w.api.p50Ms),
      ms(w.api.p99Ms),
      w.pg.rps.toFixed(0),
      ms(w.pg.p50Ms),
      ms(w.pg.p99Ms),
      `${w.ratio.toFixed(1)}×`,
    ]);
  }
  return `${table.toString()}\n${r.rows} rows, ${r.seconds} s per side; clients in the same process as the server`;
}
