import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import { createBranch } from "../src/branches/create.ts";
import { deleteBranch } from "../src/branches/delete.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { maskSet } from "../src/branches/mask.ts";
import { DEFAULT_PROJECT } from "../src/branches/projects.ts";
import { withClient } from "../src/branches/sql.ts";
import { openBenchHome } from "./home.ts";
import { fmtS } from "./report.ts";

export interface MaskBench {
  databaseMb: number;
  rows: number;
  plainCreateS: number;
  maskedCreateS: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * `branch create` vs `branch create --mask` on a table of people (~1 kB a row: email, name,
 * phone and a payload) of about sizeMb, three columns masked: the masked create pays one
 * UPDATE, a VACUUM FULL of the table and a stop/start around the T0 clone.
 */
export async function benchMask(o: { sizeMb: number }): Promise<MaskBench> {
  const h = await openBenchHome({ baseDir: tmpdir(), prefix: "bough-bench-mask-", log });
  try {
    const project = DEFAULT_PROJECT;
    const rows = Math.ceil((o.sizeMb * 1024 * 1024) / 1100);
    const p = requireProject(h.ctx, project);
    const mainUrl = branchUrl(p, requireBranch(h.ctx, p, "main"));
    const databaseMb = await withClient(mainUrl, async (c) => {
      await c.query("SET synchronous_commit = off");
      await c.query(
        `CREATE TABLE people (id bigint PRIMARY KEY, email text UNIQUE, name text, phone text, payload text)`,
      );
      await c.query(
        `INSERT INTO people SELECT g, 'person' || g || '@corp.test', 'Person ' || g, '+44' || g, repeat(md5(g::text), 30)
           FROM generate_series(1, $1::bigint) g`,
        [rows],
      );
      await c.query("CHECKPOINT");
      const r = await c.query<{ s: string }>("SELECT pg_database_size(current_database()) AS s");
      return Number(r.rows[0].s) / 1024 ** 2;
    });
    for (const [column, rule] of [
      ["public.people.email", "email"],
      ["public.people.name", "name"],
      ["public.people.phone", "phone"],
    ]) {
      await maskSet(h.ctx, { project, branch: "main", column, rule });
    }
    const timed = async (name: string, mask: boolean) => {
      const t0 = performance.now();
      await createBranch(h.ctx, { project, name, mask, switchTo: false });
      const s = (performance.now() - t0) / 1000;
      await deleteBranch(h.ctx, { project, name });
      return s;
    };
    const plainCreateS = await timed("plain", false);
    const maskedCreateS = await timed("masked", true);
    return { databaseMb, rows, plainCreateS, maskedCreateS };
  } finally {
    await h.close();
  }
}

export function maskTable(r: MaskBench): string {
  return [
    `Masked create (${r.databaseMb.toFixed(0)} MB, ${r.rows} rows, 3 columns masked):`,
    `  branch create        ${fmtS(r.plainCreateS)}`,
    `  branch create --mask ${fmtS(r.maskedCreateS)}`,
  ].join("\n");
}
