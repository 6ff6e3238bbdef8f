import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import type { Ctx } from "../src/branches/context.ts";
import { createBranch } from "../src/branches/create.ts";
import { deleteBranch } from "../src/branches/delete.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { withClient } from "../src/branches/sql.ts";
import type { StoreMode } from "../src/branches/store.ts";
import { exclusiveBytes } from "../src/clusters/disk-usage.ts";
import { dumpRestore, templateCopy } from "./baselines.ts";
import { isAborting } from "./cleanup.ts";
import { type FillState, growTo } from "./fill.ts";
import { openBenchHome } from "./home.ts";

/** One database size on one filesystem: bough's numbers (medians of the runs) and the baselines'. */
export interface SizeResult {
  filesystem: string;
  cloneDriver: string;
  targetGb: number;
  actualBytes: number;
  boughCreateS: number;
  boughFirstQueryS: number;
  boughCreatePlusQueryS: number;
  boughResetS: number;
  /** Largest over the runs: what a fresh branch (data + T0 + log) adds on disk. */
  branchDiskBytes: number | null;
  dumpRestoreS: number | null;
  templateCopyS: number | null;
  /** 1-minute load average when this size's bough runs started (a shared machine is noisy). */
  load1: number;
  /** Why a baseline is missing. */
  notes: string[];
  runs: BranchRun[];
}

export interface BranchRun {
  createS: number;
  firstQueryS: number;
  resetS: number;
  diskBytes: number | null;
}

const BRANCH = "bench-branch";
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * Measures every size on one filesystem, in one bough home created there: main grows
 * from size to size, and at each size bough branches it `repeat` times, then the
 * baselines copy it once.
 */
export async function benchFilesystem(o: {
  label: string;
  baseDir: string;
  sizesGb: number[];
  repeat: number;
  log: (line: string) => void;
  /** "create": the home as `bough init` makes it (the store on a filesystem without reflink). */
  store?: StoreMode;
}): Promise<SizeResult[]> {
  const { ctx, close } = await openBenchHome({
    baseDir: o.baseDir,
    prefix: "bough-bench-",
    log: o.log,
    store: o.store,
  });
  const results: SizeResult[] = [];
  try {
    const project = requireProject(ctx, DEFAULT_PROJECT);
    const mainUrl = branchUrl(project, requireBranch(ctx, project, "main"));
    const fill: FillState = { nextId: 0 };
    for (const gb of o.sizesGb) {
      if (isAborting()) break;
      o.log(`[${o.label}] filling main to ${gb} GB…`);
      const t0 = performance.now();
      const actualBytes = await growTo(mainUrl, gb * 1024 ** 3, fill);
      o.log(
        `[${o.label}] main is ${(actualBytes / 1024 ** 2).toFixed(0)} MB (${seconds(t0).toFixed(0)} s)`,
      );
      const load1 = loadavg()[0];
      const runs: BranchRun[] = [];
      for (let i = 0; i < o.repeat && !isAborting(); i++) runs.push(await branchRun(ctx));
      if (runs.length === 0) break;
      o.log(`[${o.label}] ${gb} GB: pg_dump | pg_restore…`);
      const dump = await dumpRestore(ctx.cluster.install, mainUrl);
      o.log(`[${o.label}] ${gb} GB: CREATE DATABASE … STRATEGY FILE_COPY…`);
      const template = await templateCopy(mainUrl);
      const disks = runs.map((r) => r.diskBytes);
      results.push({
        filesystem: o.label,
        cloneDriver: ctx.driver.name,
        targetGb: gb,
        actualBytes,
        boughCreateS: median(runs.map((r) => r.createS)),
        boughFirstQueryS: median(runs.map((r) => r.firstQueryS)),
        boughCreatePlusQueryS: median(runs.map((r) => r.createS + r.firstQueryS)),
        boughResetS: median(runs.map((r) => r.resetS)),
        branchDiskBytes: disks.includes(null) ? null : Math.max(...(disks as number[])),
        dumpRestoreS: dump.seconds,
        templateCopyS: template.seconds,
        load1,
        notes: [dump, template].flatMap((t) => (t.seconds === null ? [t.why] : [])),
        runs,
      });
    }
  } finally {
    await close();
  }
  return results;
}

/** create → first query → disk added → diverge → reset → delete, timed. */
async function branchRun(ctx: Ctx): Promise<BranchRun> {
  let t0 = performance.now();
  const created = await createBranch(ctx, {
    project: DEFAULT_PROJECT,
    name: BRANCH,
    switchTo: false,
  });
  const createS = seconds(t0);
  t0 = performance.now();
  await firstQuery(created.branch.connectionString);
  const firstQueryS = seconds(t0);
  // The branch's whole directory: its data, its frozen T0 clone and its log.
  const project = requireProject(ctx, DEFAULT_PROJECT);
  const diskBytes = await exclusiveBytes(
    ctx.paths.branchDir(project, requireBranch(ctx, project, BRANCH)),
    ctx.driver,
  );
  // Diverge a little (8 MB of pages), so reset has something to throw away.
  await withClient(created.branch.connectionString, (c) =>
    c.query("DELETE FROM bench WHERE ctid < '(1000,0)'::tid"),
  );
  t0 = performance.now();
  await resetBranch(ctx, { project: DEFAULT_PROJECT, name: BRANCH });
  const resetS = seconds(t0);
  await deleteBranch(ctx, { project: DEFAULT_PROJECT, name: BRANCH });
  return { createS, firstQueryS, resetS, diskBytes };
}

/** Connects and queries until it works: "first successful query". */
async function firstQuery(url: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    try {
      await withClient(url, (c) => c.query("SELECT count(*) FROM pg_class"));
      return;
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await sleep(10);
    }
  }
}
