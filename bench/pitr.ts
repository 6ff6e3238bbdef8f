import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import { createBranch } from "../src/branches/create.ts";
import { deleteBranch } from "../src/branches/delete.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { fsName } from "../src/clusters/clone-driver.ts";
import { findBranch } from "../src/control/branches.ts";
import { findProject } from "../src/control/projects.ts";
import { mountLoopXfs } from "../test/helpers/xfs.ts";
import { registerCleanup } from "./cleanup.ts";
import { openBenchHome } from "./home.ts";

export interface PitrRow {
  filesystem: string;
  walMb: number;
  /** branch create (online clone of the branch now). */
  createS: number;
  /** branch create --at: base clone + replay of walMb of archived WAL + promotion. */
  createAtS: number;
}

/**
 * PITR create time against the WAL it replays: for each size a fresh branch (its T0 is
 * the base), walMb of WAL written on it, then `create --at` just after the writes (the
 * whole WAL replayed) side by side with a normal create of the same branch.
 */
export async function benchPitr(o: {
  walSizesMb: number[];
  log: (line: string) => void;
}): Promise<PitrRow[]> {
  const xfs = await mountLoopXfs({ sizeMb: Math.max(8192, 6 * Math.max(...o.walSizesMb)) });
  const baseDir = xfs.ok ? xfs.dir : tmpdir();
  const unmount = xfs.ok ? registerCleanup(`loop XFS mount ${xfs.dir}`, xfs.cleanup) : null;
  const filesystem = `${await fsName(baseDir)}${xfs.ok ? " loop image" : " plain"}`;
  const home = await openBenchHome({ baseDir, prefix: "bough-pitr-", log: o.log });
  const { ctx } = home;
  const project = DEFAULT_PROJECT;
  const rows: PitrRow[] = [];
  try {
    for (const walMb of o.walSizesMb) {
      const src = `wal-${walMb}`;
      await createBranch(ctx, { project, name: src, switchTo: false });
      const p = findProject(ctx, project);
      const b = p && findBranch(ctx.db, p.id, src);
      if (!p || !b) throw new Error("bench branch vanished");
      o.log(`pitr: writing ${walMb} MB of WAL on ${src}`);
      await withClient(branchUrl(p, b), async (c) => {
        await c.query("CREATE TABLE fill (id bigint, pad text)");
        const start = (await c.query("SELECT pg_current_wal_lsn() AS l")).rows[0].l;
        for (let i = 0; ; i++) {
          const r = await c.query<{ mb: number }>(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) / 1048576.0 AS mb",
            [start],
          );
          if (Number(r.rows[0].mb) >= walMb) break;
          await c.query(
            "INSERT INTO fill SELECT g, repeat(md5(g::text), 30) FROM generate_series($1::bigint, $1 + 4999) g",
            [i * 5000],
          );
        }
      });
      const at = new Date().toISOString();
      const t0 = performance.now();
      await createBranch(ctx, { project, name: `${src}-now`, from: src, switchTo: false });
      const createS = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      await createBranch(ctx, { project, name: `${src}-at`, from: src, at, switchTo: false });
      const createAtS = (performance.now() - t1) / 1000;
      rows.push({ filesystem, walMb, createS, createAtS });
      o.log(
        `pitr: ${walMb} MB: create ${createS.toFixed(2)} s, create --at ${createAtS.toFixed(2)} s`,
      );
      await deleteBranch(ctx, { project, name: src, recursive: true });
    }
  } finally {
    await home.close();
    await unmount?.();
  }
  return rows;
}

export function pitrTable(rows: PitrRow[]): string {
  const lines = [
    "branch create vs create --at (replaying the WAL written since the base)",
    "| filesystem | WAL replayed | create | create --at |",
    "|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.filesystem} | ${r.walMb} MB | ${r.createS.toFixed(2)} s | ${r.createAtS.toFixed(2)} s |`,
    ),
  ];
  return lines.join("\n");
}
