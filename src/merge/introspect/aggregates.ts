import type pg from "pg";

/** One row of pg_aggregate, with oids already printed by Postgres (regproc, format_type). */
export interface AggregateRow {
  oid: number;
  signature: string;
  args: string;
  kind: "n" | "o" | "h";
  sfunc: string;
  stype: string;
  sspace: number;
  finalfunc: string | null;
  finalextra: boolean;
  finalmodify: string;
  combinefunc: string | null;
  serialfunc: string | null;
  deserialfunc: string | null;
  initcond: string | null;
  msfunc: string | null;
  minvfunc: string | null;
  mstype: string | null;
  msspace: number;
  mfinalfunc: string | null;
  mfinalextra: boolean;
  mfinalmodify: string;
  minitcond: string | null;
  sortop: string | null;
  parallel: string;
}

/** pg_get_functiondef refuses aggregates, so their definition is rebuilt the way pg_dump does. */
export async function readAggregateDefinitions(
  client: pg.ClientBase,
  oids: number[],
): Promise<Map<number, string>> {
  if (oids.length === 0) return new Map();
  const { rows } = await client.query<AggregateRow>(
    `SELECT a.aggfnoid::oid AS oid, quote_ident(n.nspname) || '.' || quote_ident(p.proname) AS signature,
            pg_get_function_arguments(p.oid) AS args, a.aggkind AS kind,
            a.aggtransfn::regproc::text AS sfunc, format_type(a.aggtranstype, NULL) AS stype, a.aggtransspace AS sspace,
            nullif(a.aggfinalfn, 0)::regproc::text AS finalfunc, a.aggfinalextra AS finalextra,
            a.aggfinalmodify AS finalmodify, nullif(a.aggcombinefn, 0)::regproc::text AS combinefunc,
            nullif(a.aggserialfn, 0)::regproc::text AS serialfunc,
            nullif(a.aggdeserialfn, 0)::regproc::text AS deserialfunc, a.agginitval AS initcond,
            nullif(a.aggmtransfn, 0)::regproc::text AS msfunc, nullif(a.aggminvtransfn, 0)::regproc::text AS minvfunc,
            CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END AS mstype,
            a.aggmtransspace AS msspace, nullif(a.aggmfinalfn, 0)::regproc::text AS mfinalfunc,
            a.aggmfinalextra AS mfinalextra, a.aggmfinalmodify AS mfinalmodify, a.aggminitval AS minitcond,
            nullif(a.aggsortop, 0)::regoper::text AS sortop, p.proparallel AS parallel
       FROM pg_aggregate a
       JOIN pg_proc p ON p.oid = a.aggfnoid
       JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE a.aggfnoid = ANY($1::oid[])`,
    [oids],
  );
  return new Map(rows.map((r) => [r.oid, aggregateDefinition(r)]));
}

const MODIFY: Record<string, string> = { r: "READ_ONLY", s: "SHAREABLE", w: "READ_WRITE" };
const PARALLEL: Record<string, string> = { s: "SAFE", r: "RESTRICTED", u: "UNSAFE" };

/** CREATE AGGREGATE text for one aggregate (pure). */
export function aggregateDefinition(r: AggregateRow): string {
  const opts: string[] = [`SFUNC = ${r.sfunc}`, `STYPE = ${r.stype}`];
  if (r.sspace) opts.push(`SSPACE = ${r.sspace}`);
  if (r.finalfunc) {
    opts.push(`FINALFUNC = ${r.finalfunc}`);
    if (r.finalextra) opts.push("FINALFUNC_EXTRA");
    opts.push(`FINALFUNC_MODIFY = ${MODIFY[r.finalmodify] ?? r.finalmodify}`);
  }
  if (r.combinefunc) opts.push(`COMBINEFUNC = ${r.combinefunc}`);
  if (r.serialfunc) opts.push(`SERIALFUNC = ${r.serialfunc}`);
  if (r.deserialfunc) opts.push(`DESERIALFUNC = ${r.deserialfunc}`);
  if (r.initcond !== null) opts.push(`INITCOND = ${literal(r.initcond)}`);
  if (r.msfunc) {
    opts.push(`MSFUNC = ${r.msfunc}`, `MINVFUNC = ${r.minvfunc}`, `MSTYPE = ${r.mstype}`);
    if (r.msspace) opts.push(`MSSPACE = ${r.msspace}`);
    if (r.mfinalfunc) {
      opts.push(`MFINALFUNC = ${r.mfinalfunc}`);
      if (r.mfinalextra) opts.push("MFINALFUNC_EXTRA");
      opts.push(`MFINALFUNC_MODIFY = ${MODIFY[r.mfinalmodify] ?? r.mfinalmodify}`);
    }
    if (r.minitcond !== null) opts.push(`MINITCOND = ${literal(r.minitcond)}`);
  }
  if (r.sortop) opts.push(`SORTOP = ${r.sortop}`);
  if (r.kind === "h") opts.push("HYPOTHETICAL");
  if (r.parallel !== "u") opts.push(`PARALLEL = ${PARALLEL[r.parallel] ?? r.parallel}`);
  // An aggregate without arguments is written f(*).
  const args = r.args === "" ? "*" : r.args;
  return `CREATE OR REPLACE AGGREGATE ${r.signature}(${args}) (\n    ${opts.join(",\n    ")}\n);`;
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
