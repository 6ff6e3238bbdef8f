import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { createClient } from "@supabase/supabase-js";
import pg from "pg";
import WebSocket from "ws";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import { branchKeys } from "../src/branches/keys.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { openBenchHome } from "./home.ts";

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Side {
  sent: number;
  received: number;
  eventsPerS: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RealtimeBench {
  rowsPerS: number;
  seconds: number;
  bough: Side;
  listen: Side;
  p50Ratio: number;
  p99Ratio: number;
}

const now = () => performance.timeOrigin + performance.now();
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/**
 * Inserts `rowsPerS` rows/s (one commit every 10 ms) for `seconds`, each stamped with its
 * send time; latency = arrival time - send time, in this same process (one clock).
 */
async function drive(o: {
  url: string;
  table: string;
  rowsPerS: number;
  seconds: number;
  arrivals: number[];
}): Promise<Side> {
  const perTick = Math.max(1, Math.round(o.rowsPerS / 100));
  const ticks = o.seconds * 100;
  let sent = 0;
  const start = now();
  await withClient(o.url, async (c) => {
    for (let i = 0; i < ticks; i++) {
      const due = start + i * 10;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await c.query(
        `INSERT INTO ${o.table} (sent_at) SELECT $1::float8 FROM generate_series(1, ${perTick})`,
        [now()],
      );
      sent += perTick;
    }
  });
  // Let the tail arrive (bounded).
  const end = now() + 10_000;
  while (o.arrivals.length < sent && now() < end) await new Promise((r) => setTimeout(r, 20));
  const sorted = [...o.arrivals].sort((a, b) => a - b);
  return {
    sent,
    received: o.arrivals.length,
    eventsPerS: o.arrivals.length / ((now() - start) / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
  };
}

/**
 * Realtime end to end: commit → supabase-js postgres_changes callback through bough (WAL
 * decoding, per-subscriber RLS and filter, WebSocket) against a direct LISTEN client fed by
 * a trigger's pg_notify, at the same insert rate, side by side.
 */
export async function benchRealtime(o: { rowsPerS?: number; seconds?: number } = {}) {
  const rowsPerS = o.rowsPerS ?? 1000;
  const seconds = o.seconds ?? 5;
  const h = await openBenchHome({ baseDir: tmpdir(), prefix: "bough-bench-realtime-", log });
  const app = buildApp(h.ctx);
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const project = requireProject(h.ctx, DEFAULT_PROJECT);
    const url = branchUrl(project, requireBranch(h.ctx, project, "main"));
    await withClient(url, (c) =>
      c.query(`CREATE TABLE public.ev (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sent_at float8 NOT NULL);
               CREATE TABLE public.ev_notify (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sent_at float8 NOT NULL);
               ALTER PUBLICATION supabase_realtime ADD TABLE public.ev;
               CREATE FUNCTION public.ev_notify() RETURNS trigger LANGUAGE plpgsql AS
                 $f$ BEGIN PERFORM pg_notify('ev', row_to_json(NEW)::text); RETURN NULL; END $f$;
               CREATE TRIGGER ev_notify AFTER INSERT ON public.ev_notify FOR EACH ROW EXECUTE FUNCTION public.ev_notify();`),
    );

    const port = (app.server.address() as { port: number }).port;
    const { publishableKey } = await branchKeys(h.ctx, { project: DEFAULT_PROJECT, name: "main" });
    const sb = createClient(
      `http://127.0.0.1:${port}/p/${DEFAULT_PROJECT}/b/main`,
      publishableKey,
      {
        auth: { persistSession: false, autoRefreshToken: false },
        realtime: { transport: WebSocket as never },
      },
    );
    const boughArrivals: number[] = [];
    const channel = sb
      .channel("bench")
      .on("postgres_changes", { event: "INSERT", schema: "public", table: "ev" }, (p) => {
        boughArrivals.push(now() - Number((p.new as { sent_at: number }).sent_at));
      });
    await new Promise<void>((resolve, reject) =>
      channel.subscribe((status, err) =>
        status === "SUBSCRIBED" ? resolve() : reject(err ?? new Error(status)),
      ),
    );
    const bough = await drive({ url, table: "ev", rowsPerS, seconds, arrivals: boughArrivals });
    await sb.removeAllChannels();
    log(`realtime via bough: p50 ${bough.p50Ms.toFixed(1)} ms, p99 ${bough.p99Ms.toFixed(1)} ms`);

    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const listenArrivals: number[] = [];
    listener.on("notification", (n) => {
      listenArrivals.push(now() - Number(JSON.parse(n.payload ?? "{}").sent_at));
    });
    await listener.query("LISTEN ev");
    const listen = await drive({
      url,
      table: "ev_notify",
      rowsPerS,
      seconds,
      arrivals: listenArrivals,
    });
    await listener.end();
    return {
      rowsPerS,
      seconds,
      bough,
      listen,
      p50Ratio: bough.p50Ms / listen.p50Ms,
      p99Ratio: bough.p99Ms / listen.p99Ms,
    } satisfies RealtimeBench;
  } finally {
    await app.close();
    await h.close();
  }
}

/** The realtime result as text, bough and the LISTEN baseline side by side. */
export function realtimeTable(r: RealtimeBench): string {
  const side = (name: string, s: Side) =>
    `${name}: ${s.received}/${s.sent} events, ${s.eventsPerS.toFixed(0)} events/s, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms`;
  return [
    `realtime at ${r.rowsPerS} rows/s for ${r.seconds} s, commit → client event:`,
    `  ${side("bough postgres_changes (supabase-js)", r.bough)}`,
    `  ${side("direct LISTEN (trigger pg_notify)  ", r.listen)}`,
    `  ratio bough/LISTEN: p50 ×${r.p50Ratio.toFixed(1)}, p99 ×${r.p99Ratio.toFixed(1)}`,
  ].join("\n");
}
