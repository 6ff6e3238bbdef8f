import { snapshotHash } from "../catalog/equality.ts";
import type { Snapshot } from "../catalog/snapshot.ts";
import type { DiffResult } from "../diff/changes.ts";
import { lit, qname } from "../render/sql/refs.ts";
import type { Hazard } from "../render/sql/step.ts";
import { type ActionMap, buildActions, cascade } from "./actions.ts";
import { dataStatements } from "./data.ts";
import { markImplied } from "./implied.ts";
import type { Node } from "./nodes.ts";
import { toNodes } from "./nodes.ts";
import { orderNodes } from "./order.ts";
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
  const snaps = { parent: ctx.parent, branch: ctx.branch };
  const actions = buildActions(diff.changes, snaps);
  const edges = cascade(actions, snaps);
  markImplied(actions, snaps);
  const ordered = orderNodes({ nodes: toNodes(actions, snaps), actions, cascade: edges, snaps });
  const ddl = ordered.map(toStatement);
  markDropsDependents(ddl, ordered, actions);
  markNewTables(ddl, ordered, actions);
  const data = dataStatements(diff.changes, snaps);
  markNewEnumLabels([...ddl, ...data], ordered, snaps.branch);
  const migrations: Statement[] = (ctx.migrations ?? []).map((m) => ({
    layer: "migration",
    sql: m.sql,
    objectId: `migration:${m.name}`,
    changeKind: "migration",
    hazards: [],
    notes: ["recorded migration of the branch, replayed verbatim"],
  }));
  return {
    statements: [...migrations, ...withSettings(ddl), ...data],
    parentHash: snapshotHash(ctx.parent),
    blocked: diff.conflicts.length > 0,
  };
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

/** ALTER TYPE ... ADD VALUE cannot be used in the transaction that adds it: flag later uses. */
function markNewEnumLabels(statements: Statement[], nodes: Node[], branch: Snapshot) {
  nodes.forEach((n, i) => {
    const label = n.step.addsLabel;
    const e = branch.objects[n.objectId];
    if (label === undefined || e?.kind !== "enum") return;
    const casts = [
      `${lit(label)}::${e.schema}.${e.name}`,
      `${lit(label)}::${qname(e.schema, e.name)}`,
    ];
    const users = enumColumns(branch, e.id);
    const later = statements.slice(i + 1).filter((s) => {
      if (casts.some((c) => s.sql.includes(c))) return true;
      return (
        s.layer === "data" &&
        users.some((col) => s.sql.includes(col.table) && s.sql.includes(lit(label)))
      );
    });
    if (later.length === 0) return;
    const s = statements[i];
    s.hazards.push("new-enum-value-used-in-transaction");
    s.notes.push(
      `${later.map((x) => x.objectId).join(", ")} use${later.length === 1 ? "s" : ""} it in the same transaction`,
    );
  });
}

function enumColumns(branch: Snapshot, enumId: string): { table: string }[] {
  return Object.values(branch.objects)
    .filter((o) => o.kind === "column" && o.deps.includes(enumId))
    .map((o) => ({ table: o.kind === "column" ? qname(o.schema, o.table) : "" }));
}
