import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import { type Ctx, openContext } from "../src/branches/context.ts";
import { createBranch } from "../src/branches/create.ts";
import { deleteBranch } from "../src/branches/delete.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { DEFAULT_PROJECT, ensureDefaultProject } from "../src/branches/projects.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { withClient } from "../src/branches/sql.ts";
import { exclusiveBytes } from "../src/clusters/disk-usage.ts";
import { pgEnv } from "../src/clusters/install.ts";

const run = promisify(execFile);

export interface SizeResult {
  filesystem: string;
  cloneDriver: string;
  targetGb: number;
  actualBytes: number;
  boughCreateS: number;
  boughFirstQueryS: number;
  boughCreatePlusQueryS: number;
  boughResetS: number;
  branchDiskBytes: number | null;
  dumpRestoreS: number | null;
  templateCopyS: number | null;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** Grows main's `bench` table until the database is at least the target size. */
async function fill(url: string, targetBytes: number): Promise<number> {
  return withClient(url, async (c) => {
    await c.query("DROP TABLE IF EXISTS bench; CREATE TABLE bench (id bigint, payload text)");
    // ~1 kB rows, inserted in ~64 MB batches; repeat() keeps pages full and incompressible enough.
    let size = 0;
    let next = 0;
    while (size < targetBytes) {
      await c.query(
        "INSERT INTO bench SELECT g, md5(g::text) || repeat(md5((g * 7)::text), 30) FROM generate_series($1::bigint, $1::bigint + 59999) g",
        [next],
      );
      next += 60000;
      const r = await c.query("SELECT pg_database_size(current_database())::bigint AS s");
      size = Number(r.rows[0].s);
    }
    await c.query("CHECKPOINT");
    return size;
  });
}

async function firstQuery(url: string): Promise<void> {
  await withClient(url, (c) => c.query("SELECT count(*) FROM pg_class"));
}

/** pg_dump -Fc | pg_restore into a new database of the same cluster (InsForge-style branching). */
async function dumpRestore(ctx: Ctx, url: string, workDir: string): Promise<number | null> {
  const bin = ctx.cluster.install.binDir;
  const env = { ...process.env, ...pgEnv(ctx.cluster.install) };
  const file = join(workDir, "bench.dump");
  const target = url.replace(/\/postgres$/, "/bench_restore");
  try {
    await withClient(url, (c) => c.query("DROP DATABASE IF EXISTS bench_restore"));
    const t0 = performance.now();
    await run(join(bin, "pg_dump"), ["-Fc", "-Z0", "-f", file, "-d", url], {
      env,
      maxBuffer: 1 << 24,
    });
    await withClient(url, (c) => c.query("CREATE DATABASE bench_restore"));
    await run(join(bin, "pg_restore"), ["-d", target, file], { env, maxBuffer: 1 << 24 });
    const s = seconds(t0);
    await withClient(url, (c) => c.query("DROP DATABASE bench_restore"));
    await rm(file, { force: true });
    return s;
  } catch (err) {
    process.stderr.write(
      `pg_dump/pg_restore unavailable: ${(err as Error).message.split("\n")[0]}\n`,
    );
    return null;
  }
}

/** CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY (PG15+): Postgres' own whole-database copy. */
async function templateCopy(url: string): Promise<number | null> {
  const admin = url.replace(/\/postgres$/, "/template1");
  try {
    await withClient(admin, (c) => c.query("DROP DATABASE IF EXISTS bench_copy"));
    const t0 = performance.now();
    await withClient(admin, (c) =>
      c.query("CREATE DATABASE bench_copy TEMPLATE postgres STRATEGY FILE_COPY"),
    );
    const s = seconds(t0);
    await withClient(admin, (c) => c.query("DROP DATABASE bench_copy"));
    return s;
  } catch (err) {
    process.stderr.write(`template copy failed: ${(err as Error).message}\n`);
    return null;
  }
}

/** Measures every size on one filesystem, side by side, in one bough home there. */
export async function benchFilesystem(o: {
  label: string;
  baseDir: string;
  sizesGb: number[];
}): Promise<SizeResult[]> {
  const home = await mkdtemp(join(o.baseDir, "bough-bench-"));
  const ctx = await openContext({ home });
  const results: SizeResult[] = [];
  try {
    await ensureDefaultProject(ctx);
    const project = requireProject(ctx, DEFAULT_PROJECT);
    const mainUrl = branchUrl(project, requireBranch(ctx, project, "main"));
    for (const gb of o.sizesGb) {
      process.stderr.write(`[${o.label}] filling main to ${gb} GB…\n`);
      const actualBytes = await fill(mainUrl, gb * 1024 ** 3);
      let t0 = performance.now();
      const created = await createBranch(ctx, {
        project: DEFAULT_PROJECT,
        name: "bench-branch",
        switchTo: false,
      });
      const boughCreateS = seconds(t0);
      await firstQuery(created.branch.connectionString);
      const boughCreatePlusQueryS = seconds(t0);
      const branchDiskBytes = await exclusiveBytes(
        ctx.paths.branchData(DEFAULT_PROJECT, "bench-branch"),
        ctx.driver,
      );
      await withClient(created.branch.connectionString, (c) =>
        c.query("DELETE FROM bench WHERE id % 10 = 0"),
      );
      t0 = performance.now();
      await resetBranch(ctx, { project: DEFAULT_PROJECT, name: "bench-branch" });
      const boughResetS = seconds(t0);
      await deleteBranch(ctx, { project: DEFAULT_PROJECT, name: "bench-branch" });
      process.stderr.write(`[${o.label}] ${gb} GB: dump/restore and template copy…\n`);
      const dumpRestoreS = await dumpRestore(ctx, mainUrl, home);
      const templateCopyS = await templateCopy(mainUrl);
      results.push({
        filesystem: o.label,
        cloneDriver: ctx.driver.name,
        targetGb: gb,
        actualBytes,
        boughCreateS,
        boughFirstQueryS: boughCreatePlusQueryS - boughCreateS,
        boughCreatePlusQueryS,
        boughResetS,
        branchDiskBytes,
        dumpRestoreS,
        templateCopyS,
      });
    }
  } finally {
    const { deleteProject } = await import("../src/branches/projects.ts");
    await deleteProject(ctx, { name: DEFAULT_PROJECT }).catch(() => {});
    ctx.close();
    await rm(home, { recursive: true, force: true });
  }
  return results;
}
