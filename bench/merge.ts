import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import { branchUrl, startBranch, stopBranch } from "../src/branches/branch-cluster.ts";
import type { Ctx } from "../src/branches/context.ts";
import { createBranch } from "../src/branches/create.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { sideConnections, withClient } from "../src/branches/sql.ts";
import { mergeBaseOf } from "../src/control/branches.ts";
import { snapshotHash } from "../src/merge/catalog/equality.ts";
import type { Snapshot } from "../src/merge/catalog/snapshot.ts";
import { readSnapshot } from "../src/merge/catalog/upgrade.ts";
import { diff3 } from "../src/merge/diff/diff3.ts";
import {
  checkFingerprints,
  type Fingerprint,
  readFingerprint,
} from "../src/merge/fingerprint/index.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { plan } from "../src/merge/plan/index.ts";
import { renderPreview } from "../src/merge/render/index.ts";
import { dumpSchema } from "./baselines.ts";
import { openBenchHome } from "./home.ts";
import { branchChanges, type SchemaSize, schemaBatches, schemaSize } from "./merge-schema.ts";
import { fmtS } from "./report.ts";

const BRANCH = "merge-bench";
/** Targets per scale: 1,000 tables (the merge engine issue), 10,000 tables (issue 12). */
const TARGETS: Record<number, { introspectS: number; dryRunS: number }> = {
  1: { introspectS: 0.5, dryRunS: 2 },
  10: { introspectS: 1, dryRunS: 3 },
};

/** A step timed `runs` times: the median decides, all are kept. */
interface Timed {
  medianS: number | null;
  runsS: number[];
  error?: string;
}

type Step =
  | "introspectParent"
  | "introspectBranch"
  | "fingerprintParent"
  | "diff3"
  | "checkFingerprints"
  | "plan"
  | "render"
  | "snapshotHash";

export interface MergeBenchResult {
  scale: number;
  schema: SchemaSize & { branchChanges: number; snapshotObjects: number };
  /** `pg_dump --schema-only` of main: the yardstick the steps are compared with. */
  dumpSchema: Timed;
  introspectMain: Timed;
  steps: Record<Step, Timed>;
  /** mergeBranch(ctx, { dryRun: true }): the whole `bough branch merge --dry-run`. */
  mergeDryRun: Timed;
  changes: number | null;
  conflicts: number | null;
  statements: number | null;
  previewLines: number | null;
  targets: { target: string; met: boolean | null; measured: string }[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Runs fn `runs` times; keeps the last value. A failure is recorded, not thrown. */
async function timed<T>(
  runs: number,
  fn: () => Promise<T> | T,
): Promise<{ t: Timed; value: T | null }> {
  const runsS: number[] = [];
  let value: T | null = null;
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      value = await fn();
      runsS.push((performance.now() - t0) / 1000);
    }
    return { t: { medianS: median(runsS), runsS }, value };
  } catch (err) {
    return {
      t: { medianS: null, runsS, error: (err as Error).message.split("\n")[0] },
      value: null,
    };
  }
}

/**
 * Merge dry-run on a big schema: builds it on main (scale 1: 1,000 tables; scale 10:
 * 10,000), branches, changes 50 objects per scale step on the branch, then times
 * `pg_dump --schema-only` as the yardstick, introspection, each pipeline step, and
 * mergeBranch(dryRun) end to end. Prints its tables; returns JSON-able results.
 */
export async function benchMerge(
  o: { baseDir?: string; runs?: number; scale?: number } = {},
): Promise<MergeBenchResult> {
  const scale = o.scale ?? 1;
  const runs = o.runs ?? 5;
  const size = schemaSize(scale);
  const log = (line: string) => process.stderr.write(`[merge x${scale}] ${line}\n`);
  const { ctx, close } = await openBenchHome({
    baseDir: o.baseDir ?? tmpdir(),
    prefix: "bough-bench-merge-",
    log,
  });
  try {
    const project = requireProject(ctx, DEFAULT_PROJECT);
    let mainUrl = branchUrl(project, requireBranch(ctx, project, "main"));
    log(
      `creating ${size.tables} tables, ${size.indexes} indexes, ${size.foreignKeys} FKs, ${size.views} views on main…`,
    );
    let t0 = performance.now();
    await withClient(mainUrl, async (c) => {
      for (const batch of schemaBatches(size)) await c.query(batch);
      await c.query("ANALYZE");
      // pg_dump locks every table in one transaction: 10,000 overflow the default lock table.
      await c.query(
        `ALTER SYSTEM SET max_locks_per_transaction = ${Math.max(64, size.tables / 20)}`,
      );
    });
    const main = requireBranch(ctx, project, "main");
    await stopBranch(ctx, project, main);
    mainUrl = branchUrl(project, await startBranch(ctx, project, main));
    log(`schema built in ${seconds(t0).toFixed(1)} s; branching…`);
    t0 = performance.now();
    await createBranch(ctx, { project: DEFAULT_PROJECT, name: BRANCH, switchTo: false });
    const changes = branchChanges(scale);
    log(
      `branch created in ${seconds(t0).toFixed(1)} s (${ctx.driver.name}); changing ${changes.length} objects on it…`,
    );
    const branchUrlNow = branchUrl(project, requireBranch(ctx, project, BRANCH));
    await withClient(branchUrlNow, async (c) => {
      for (const sql of changes) await c.query(sql);
    });
    const result = await measure(ctx, { mainUrl, branchUrl: branchUrlNow, runs, scale, log });
    result.schema = {
      ...size,
      branchChanges: changes.length,
      snapshotObjects: result.schema.snapshotObjects,
    };
    process.stdout.write(`${mergeTable(result)}\n`);
    return result;
  } finally {
    await close();
  }
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

async function measure(
  ctx: Ctx,
  o: { mainUrl: string; branchUrl: string; runs: number; scale: number; log: (l: string) => void },
): Promise<MergeBenchResult> {
  const project = requireProject(ctx, DEFAULT_PROJECT);
  const stored = mergeBaseOf(ctx.db, requireBranch(ctx, project, BRANCH).id);
  const base = readSnapshot((stored.mergeBase ?? stored.t0Base) as string);
  const baseFingerprint = JSON.parse(
    (stored.mergeBase ? stored.baseFingerprint : stored.t0Fingerprint) as string,
  ) as Fingerprint;
  o.log("timing pg_dump --schema-only, introspect, fingerprint, diff3, plan, renderPreview…");
  const dump = await timed(o.runs, async () => {
    const r = await dumpSchema(ctx.cluster.install, o.mainUrl);
    if (r.seconds === null) throw new Error(r.why);
  });
  // As the merge reads a side: its queries spread over connections in one snapshot.
  const read = <T>(url: string, fn: typeof introspect | typeof readFingerprint) =>
    withClient(url, (c) => fn(c, sideConnections(url)) as Promise<T>);
  const parent = await timed(o.runs, () => read<Snapshot>(o.mainUrl, introspect));
  const branch = await timed(o.runs, () => read<Snapshot>(o.branchUrl, introspect));
  const fingerprint = await timed(o.runs, () =>
    read<Fingerprint | null>(o.mainUrl, readFingerprint),
  );
  const branchFingerprint = await read<Fingerprint | null>(o.branchUrl, readFingerprint);
  const p = parent.value;
  const b = branch.value;
  const failed = skipped("an earlier step failed");
  const diff = p && b ? await timed(o.runs, () => diff3(base, p, b)) : null;
  const d = diff?.value ?? null;
  const checked =
    p && b
      ? await timed(o.runs, () =>
          checkFingerprints({
            base,
            branch: b,
            fingerprints: {
              base: baseFingerprint,
              branch: branchFingerprint,
              parent: fingerprint.value,
            },
          }),
        )
      : null;
  const planned =
    p && b && d
      ? await timed(o.runs, () => plan(d, { base, parent: p, branch: b, migrations: [] }))
      : null;
  const pl = planned?.value ?? null;
  const rendered =
    d && pl
      ? await timed(o.runs, () =>
          renderPreview({ plan: pl, diff: d, branch: BRANCH, parent: "main" }),
        )
      : null;
  // A fresh copy each run (made before the clock starts): snapshotHash caches by snapshot.
  const copies = p ? Array.from({ length: o.runs }, () => structuredClone(p)) : [];
  const hashed = p ? await timed(o.runs, () => snapshotHash(copies.pop() as Snapshot)) : null;
  o.log("timing mergeBranch(dryRun) end to end…");
  const merge = await timed(o.runs, () =>
    mergeBranch(ctx, { project: DEFAULT_PROJECT, name: BRANCH, dryRun: true }),
  );
  const r = merge.value;
  const introspectMain = parent.t;
  const target = TARGETS[o.scale] ?? TARGETS[10];
  const perSide = Math.max(parent.t.medianS ?? Infinity, branch.t.medianS ?? Infinity);
  return {
    scale: o.scale,
    schema: {
      ...schemaSize(o.scale),
      branchChanges: 0,
      snapshotObjects: p ? Object.keys(p.objects).length : 0,
    },
    dumpSchema: dump.t,
    introspectMain,
    steps: {
      introspectParent: parent.t,
      introspectBranch: branch.t,
      fingerprintParent: fingerprint.t,
      diff3: diff?.t ?? skipped("introspection failed"),
      checkFingerprints: checked?.t ?? failed,
      plan: planned?.t ?? failed,
      render: rendered?.t ?? failed,
      snapshotHash: hashed?.t ?? failed,
    },
    mergeDryRun: merge.t,
    changes: r?.changes.length ?? d?.changes.length ?? null,
    conflicts: r?.conflicts.length ?? d?.conflicts.length ?? null,
    statements: r?.statements.length ?? pl?.statements.length ?? null,
    previewLines: (r?.preview ?? rendered?.value)?.split("\n").length ?? null,
    targets: [
      {
        target: `introspection per side < ${target.introspectS} s`,
        met: Number.isFinite(perSide) ? perSide < target.introspectS : null,
        measured: `main ${fmtS(parent.t.medianS)}, branch ${fmtS(branch.t.medianS)}`,
      },
      {
        target: `merge dry-run end to end < ${target.dryRunS} s`,
        met: merge.t.medianS === null ? null : merge.t.medianS < target.dryRunS,
        measured: fmtS(merge.t.medianS),
      },
    ],
  };
}

const skipped = (why: string): Timed => ({ medianS: null, runsS: [], error: `skipped: ${why}` });

/** How many times pg_dump --schema-only's time a step takes. */
const vsDump = (t: Timed, dump: Timed) =>
  t.medianS === null || !dump.medianS ? "" : `${(t.medianS / dump.medianS).toFixed(2)}×`;

export function mergeTable(r: MergeBenchResult): string {
  const table = new Table({
    head: ["merge dry-run step", "median", "runs", "vs pg_dump -s", "note"],
    style: { head: [], border: [] },
  });
  const row = (name: string, t: Timed, note = "") =>
    table.push([
      name,
      fmtS(t.medianS),
      t.runsS.map((s) => fmtS(s)).join(", "),
      vsDump(t, r.dumpSchema),
      t.error ?? note,
    ]);
  row("pg_dump --schema-only (main)", r.dumpSchema, "yardstick: the schema read as SQL text");
  row(
    "introspect(main)",
    r.steps.introspectParent,
    `${r.schema.snapshotObjects} objects in the snapshot`,
  );
  row("introspect(branch)", r.steps.introspectBranch);
  row("readFingerprint(main)", r.steps.fingerprintParent, "catalog fingerprint, per side");
  row(
    "diff3",
    r.steps.diff3,
    r.changes === null ? "" : `${r.changes} changes, ${r.conflicts} conflicts`,
  );
  row("checkFingerprints", r.steps.checkFingerprints);
  row("plan", r.steps.plan, r.statements === null ? "" : `${r.statements} statements`);
  row("renderPreview", r.steps.render, r.previewLines === null ? "" : `${r.previewLines} lines`);
  row("snapshotHash(main)", r.steps.snapshotHash);
  row(
    "mergeBranch(dryRun) end to end",
    r.mergeDryRun,
    "exclusive lock, introspections and fingerprints, diff, plan, render",
  );
  const targets = new Table({
    head: ["target", "met", "measured"],
    style: { head: [], border: [] },
  });
  for (const t of r.targets)
    targets.push([t.target, t.met === null ? "?" : t.met ? "yes" : "NO", t.measured]);
  const s = r.schema;
  return [
    `merge dry-run: ${s.tables} tables x 10 columns, ${s.tables} primary keys + ${s.indexes} indexes, ${s.foreignKeys} FKs, ${s.views} views; ${s.branchChanges} objects changed on the branch`,
    table.toString(),
    targets.toString(),
  ].join("\n");
}
