import { snapshotHash } from "../catalog/equality.ts";
import type { Snapshot } from "../catalog/snapshot.ts";
import type { DiffResult } from "../diff/changes.ts";
import { renameHintText, renameSql } from "../renames/hints.ts";
import { lit, qname } from "../render/sql/refs.ts";
import type { Conversions, Hazard } from "../render/sql/step.ts";
import { type ActionMap, buildActions, cascade } from "./actions.ts";
import { dataStatements } from "./data.ts";
import { markImplied } from "./implied.ts";
import type { Node } from "./nodes.ts";
import { toNodes } from "./nodes.ts";
import { orderNodes } from "./order.ts";
import { reachesOutside } from "./server-access.ts";
import type { Plan, PlanContext, Statement } from "./types.ts";

/**
 * Turns the diff's changes into ordered SQL: the branch's migrations first (verbatim),
 * then DDL in dependency order, then config rows. Pure: the same inputs give the same
 * statements, byte for byte.
 *
 * When migrations are given, `ctx.parent` (and the diff) must describe the parent with
 * them already replayed, so the DDL covers only what they leave to do.
 *
 * @example const p = plan(diff3(t0, parent, branch), { base: t0, parent, branch });
 */
export function plan(diff: DiffResult, ctx: PlanContext): Plan {
  const snaps = { parent: ctx.parent, branch: ctx.branch, conversions: ctx.conversions };
  let built = build(diff, snaps, new Set());
  // Labels Postgres cannot use before a commit: such enums are rebuilt instead (one
  // transaction, and the labels of a type created in it are usable at once).
  const rebuild = enumsUsingNewLabels(built, snaps);
  if (rebuild.size > 0) built = build(diff, snaps, rebuild);
  const { ddl, data } = built;
  const migrations: Statement[] = (ctx.migrations ?? []).map((m) => ({
    layer: "migration",
    sql: m.sql,
    objectId: `migration:${m.name}`,
    changeKind: "migration",
    hazards: reachesOutside(m.sql) ? ["reaches-outside-the-database" as const] : [],
    notes: ["recorded migration of the branch, replayed verbatim"],
  }));
  const renames: Statement[] = (ctx.renames ?? []).flatMap((h) =>
    renameSql(h).map((sql) => ({
      layer: "ddl" as const,
      sql,
      objectId: `rename:${renameHintText(h)}`,
      changeKind: "rename",
      hazards: ["access-exclusive-lock" as const],
      notes: ["--rename: renamed in place, so its rows and everything built on it are kept"],
    })),
  );
  return {
    statements: [...migrations, ...renames, ...withSettings(ddl), ...data],
    parentHash: snapshotHash(ctx.parent),
    blocked: diff.conflicts.length > 0,
  };
}

interface Built {
  ddl: Statement[];
  data: Statement[];
  ordered: Node[];
}

function build(
  diff: DiffResult,
  snaps: { parent: Snapshot; branch: Snapshot; conversions?: Conversions },
  rebuild: ReadonlySet<string>,
): Built {
  const actions = buildActions(diff.changes, snaps, rebuild);
  const edges = cascade(actions, snaps);
  markImplied(actions, snaps);
  const ordered = orderNodes({ nodes: toNodes(actions, snaps), actions, cascade: edges, snaps });
  const ddl = ordered.map(toStatement);
  markDropsDependents(ddl, ordered, actions);
  markNewTables(ddl, ordered, actions);
  return { ddl, data: dataStatements(diff.changes, snaps), ordered };
}

function toStatement(n: Node): Statement {
  return {
    layer: "ddl",
    sql: n.step.sql,
    objectId: n.objectId,
    changeKind: n.label,
    hazards: [...n.step.hazards],
    notes: [...n.notes],
  };
}

/** Function bodies may name objects created later in the same merge: do not check them now. */
function withSettings(ddl: Statement[]): Statement[] {
  const creates = ddl.some((s) => /^CREATE (OR REPLACE )?(FUNCTION|PROCEDURE)\b/u.test(s.sql));
  if (!creates) return ddl;
  const setting: Statement = {
    layer: "ddl",
    sql: "SET LOCAL check_function_bodies = off;",
    objectId: "setting:check_function_bodies",
    changeKind: "setting",
    hazards: [],
    notes: ["for this transaction only"],
  };
  return [setting, ...ddl];
}

/** The statement that takes an object down (its drop, or its first change) says its dependents are rebuilt. */
function markDropsDependents(ddl: Statement[], nodes: Node[], actions: ActionMap) {
  const rebuilt = new Map<string, string[]>();
  for (const a of actions.values()) {
    if (a.mode !== "recreate") continue;
    for (const note of a.notes) {
      const m = /^recreated because (\S+) /u.exec(note);
      if (m) rebuilt.set(m[1], [...(rebuilt.get(m[1]) ?? []), a.id]);
    }
  }
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    const deps = rebuilt.get(n.objectId);
    if (!deps || seen.has(n.objectId) || n.op === "create") return;
    seen.add(n.objectId);
    ddl[i].hazards.push("drops-dependents");
    ddl[i].notes.push(`dependents dropped and recreated: ${[...deps].sort().join(", ")}`);
  });
}

const EXISTING_ROWS: ReadonlySet<Hazard> = new Set([
  "access-exclusive-lock",
  "blocks-writes",
  "rewrites-table",
  "may-fail-on-existing-rows",
]);

/** A table created by this merge is empty and unused: statements on it risk nothing. */
function markNewTables(ddl: Statement[], nodes: Node[], actions: ActionMap) {
  const fresh = new Set(
    [...actions.values()]
      .filter((a) => (a.mode === "create" || a.mode === "recreate") && a.after.kind === "table")
      .map((a) => a.id),
  );
  nodes.forEach((n, i) => {
    if (n.op === "drop" || !n.table || !fresh.has(n.table)) return;
    ddl[i].hazards = ddl[i].hazards.filter((h) => !EXISTING_ROWS.has(h));
  });
}

/**
 * Enums whose label added by `ALTER TYPE ... ADD VALUE` a later statement of the merge
 * uses (a cast of it in a default, check, view or row, or a column converted to the
 * type, whose rows may hold it): Postgres refuses such a use until the label commits.
 */
function enumsUsingNewLabels(
  built: Built,
  snaps: { parent: Snapshot; branch: Snapshot },
): Set<string> {
  const statements = [...built.ddl, ...built.data];
  const out = new Set<string>();
  built.ordered.forEach((n, i) => {
    const label = n.step.addsLabel;
    const e = snaps.branch.objects[n.objectId];
    if (label === undefined || e?.kind !== "enum") return;
    const casts = [
      `${lit(label)}::${e.schema}.${e.name}`,
      `${lit(label)}::${qname(e.schema, e.name)}`,
    ];
    const users = enumColumns(snaps.branch, e.id);
    const converted = new Set(
      users.filter((c) => !snaps.parent.objects[c.id]?.deps.includes(e.id)).map((c) => c.id),
    );
    const used = statements.slice(i + 1).some((s) => {
      if (casts.some((c) => s.sql.includes(c)) || converted.has(s.objectId)) return true;
      return (
        s.layer === "data" &&
        users.some((col) => s.sql.includes(col.table) && s.sql.includes(lit(label)))
      );
    });
    if (used) out.add(e.id);
  });
  return out;
}

function enumColumns(branch: Snapshot, enumId: string): { id: string; table: string }[] {
  return Object.values(branch.objects).flatMap((o) =>
    o.kind === "column" && o.deps.includes(enumId)
      ? [{ id: o.id, table: qname(o.schema, o.table) }]
      : [],
  );
}
