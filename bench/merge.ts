import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import type { Ctx } from "../src/branches/context.ts";
import { createBranch } from "../src/branches/create.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { mergeBaseOf } from "../src/control/branches.ts";
import type { Snapshot } from "../src/merge/catalog/snapshot.ts";
import { diff3 } from "../src/merge/diff/diff3.ts";
import { introspect } from "../src/merge/introspect/index.ts";
import { plan } from "../src/merge/plan/index.ts";
import { renderPreview } from "../src/merge/render/index.ts";
import { openBenchHome } from "./home.ts";
import { branchChanges, SCHEMA_SIZE, schemaBatches } from "./merge-schema.ts";
import { fmtS } from "./report.ts";

const BRANCH = "merge-bench";
const TARGETS = { introspectS: 0.5, dryRunS: 2 };

/** A step timed `runs` times: the median decides, all are kept. */
interface Timed {
  medianS: number | null;
  runsS: number[];
  error?: string;
}

export interface MergeBenchResult {
  schema: typeof SCHEMA_SIZE & { branchChanges: number; snapshotObjects: number };
  introspectMain: Timed;
  steps: Record<"introspectParent" | "introspectBranch" | "diff3" | "plan" | "render", Timed>;
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
 * Merge dry-run on a big schema: builds it on main, branches, changes 50 objects on the
 * branch, then times introspection of the schema alone, each pipeline step, and
 * mergeBranch(dryRun) end to end. Prints its tables; returns JSON-able results.
 */
export async function benchMerge(
  o: { baseDir?: string; runs?: number } = {},
): Promise<MergeBenchResult> {
  const runs = o.runs ?? 5;
  const log = (line: string) => process.stderr.write(`[merge] ${line}\n`);
  const { ctx, close } = await openBenchHome({
    baseDir: o.baseDir ?? tmpdir(),
    prefix: "bough-bench-merge-",
    log,
  });
  try {
    const project = requireProject(ctx, DEFAULT_PROJECT);
    const mainUrl = branchUrl(project, requireBranch(ctx, project, "main"));
    log(
      `creating ${SCHEMA_SIZE.tables} tables, ${SCHEMA_SIZE.indexes} indexes, ${SCHEMA_SIZE.foreignKeys} FKs, ${SCHEMA_SIZE.views} views on main…`,
    );
    let t0 = performance.now();
    await withClient(mainUrl, async (c) => {
      for (const batch of schemaBatches()) await c.query(batch);
      await c.query("ANALYZE");
    });
    log(`schema built in ${seconds(t0).toFixed(1)} s; branching…`);
    t0 = performance.now();
    await createBranch(ctx, { project: DEFAULT_PROJECT, name: BRANCH, switchTo: false });
    log(
      `branch created in ${seconds(t0).toFixed(1)} s (${ctx.driver.name}); changing 50 objects on it…`,
    );
    const changes = branchChanges();
    const branchUrlNow = branchUrl(project, requireBranch(ctx, project, BRANCH));
    await withClient(branchUrlNow, async (c) => {
      for (const sql of changes) await c.query(sql);
    });
    const result = await measure(ctx, { mainUrl, branchUrl: branchUrlNow, runs, log });
    result.schema.branchChanges = changes.length;
    process.stdout.write(`${mergeTable(result)}\n`);
    return result;
  } finally {
    await close();
  }
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

async function measure(
  ctx: Ctx,
  o: { mainUrl: string; branchUrl: string; runs: number; log: (l: string) => void },
): Promise<MergeBenchResult> {
  const project = requireProject(ctx, DEFAULT_PROJECT);
  const { t0Base, mergeBase } = mergeBaseOf(ctx.db, requireBranch(ctx, project, BRANCH).id);
  const base = JSON.parse((mergeBase ?? t0Base) as string) as Snapshot;
  o.log("timing introspect, diff3, plan, renderPreview…");
  const parent = await timed(o.runs, () => withClient(o.mainUrl, (c) => introspect(c)));
  const branch = await timed(o.runs, () => withClient(o.branchUrl, (c) => introspect(c)));
  const p = parent.value;
  const b = branch.value;
  const diff = p && b ? await timed(o.runs, () => diff3(base, p, b)) : null;
  const d = diff?.value ?? null;
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
  o.log("timing mergeBranch(dryRun) end to end…");
  const merge = await timed(o.runs, () =>
    mergeBranch(ctx, { project: DEFAULT_PROJECT, name: BRANCH, dryRun: true }),
  );
  const r = merge.value;
  const introspectMain = parent.t;
  return {
    schema: {
      ...SCHEMA_SIZE,
      branchChanges: 0,
      snapshotObjects: p ? Object.keys(p.objects).length : 0,
    },
    introspectMain,
    steps: {
      introspectParent: parent.t,
      introspectBranch: branch.t,
      diff3: diff?.t ?? skipped("introspection failed"),
      plan: planned?.t ?? skipped("an earlier step failed"),
      render: rendered?.t ?? skipped("an earlier step failed"),
    },
    mergeDryRun: merge.t,
    changes: r?.changes.length ?? d?.changes.length ?? null,
    conflicts: r?.conflicts.length ?? d?.conflicts.length ?? null,
    statements: r?.statements.length ?? pl?.statements.length ?? null,
    previewLines: (r?.preview ?? rendered?.value)?.split("\n").length ?? null,
    targets: [
      {
        target: `introspect(main) of the schema < ${TARGETS.introspectS} s`,
        met: introspectMain.medianS === null ? null : introspectMain.medianS < TARGETS.introspectS,
        measured: fmtS(introspectMain.medianS),
      },
      {
        target: `merge dry-run end to end < ${TARGETS.dryRunS} s`,
        met: merge.t.medianS === null ? null : merge.t.medianS < TARGETS.dryRunS,
        measured: fmtS(merge.t.medianS),
      },
    ],
  };
}

const skipped = (why: string): Timed => ({ medianS: null, runsS: [], error: `skipped: ${why}` });

function mergeTable(r: MergeBenchResult): string {
  const table = new Table({
    head: ["merge dry-run step", "median", "runs", "note"],
    style: { head: [], border: [] },
  });
  const row = (name: string, t: Timed, note = "") =>
    table.push([name, fmtS(t.medianS), t.runsS.map((s) => fmtS(s)).join(", "), t.error ?? note]);
  row(
    "introspect(main)",
    r.steps.introspectParent,
    `${r.schema.snapshotObjects} objects in the snapshot`,
  );
  row("introspect(branch)", r.steps.introspectBranch);
  row(
    "diff3",
    r.steps.diff3,
    r.changes === null ? "" : `${r.changes} changes, ${r.conflicts} conflicts`,
  );
  row("plan", r.steps.plan, r.statements === null ? "" : `${r.statements} statements`);
  row("renderPreview", r.steps.render, r.previewLines === null ? "" : `${r.previewLines} lines`);
  row(
    "mergeBranch(dryRun) end to end",
    r.mergeDryRun,
    "exclusive lock, both introspections, diff, plan, render",
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
