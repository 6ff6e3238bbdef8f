import { qualified } from "../catalog/ids.ts";
import type { DbObject, Snapshot } from "../catalog/snapshot.ts";
import { byString } from "../diff/changes.ts";
import type { ActionMap, CascadeEdge } from "./actions.ts";
import type { Node } from "./nodes.ts";
import { dependentsIndex, ownersOf } from "./owners.ts";

/**
 * Creation order of kinds, the tie-break when dependencies leave a choice (and the
 * fallback when a snapshot lacks a dependency): drops run first, in reverse.
 */
const KINDS = [
  "schema",
  "extension",
  "collation",
  "enum",
  "domain",
  "composite",
  "range",
  "sequence",
  "function",
  "table",
  "column",
  "constraint",
  "index",
  "statistics",
  "foreign-key",
  "view",
  "matview",
  "trigger",
  "rule",
  "event_trigger",
  "policy",
  "publication",
  "publication_table",
  "publication_schema",
  "grant",
  "comment",
  "default_privilege",
];

function rank(n: Node, snaps: { parent: Snapshot; branch: Snapshot }): number {
  if (n.step.early) return 0;
  const obj = snaps.branch.objects[n.objectId] ?? snaps.parent.objects[n.objectId];
  const kind = obj?.kind === "constraint" && obj.type === "f" ? "foreign-key" : n.kind;
  const i = KINDS.indexOf(kind);
  return n.op === "drop" ? 100 + (KINDS.length - i) : 200 + i;
}

/**
 * Orders the nodes: a topological sort over dependency edges, always taking the ready
 * node with the lowest (rank, object id, step) so the same input gives the same order.
 */
export function orderNodes(o: {
  nodes: Node[];
  actions: ActionMap;
  cascade: CascadeEdge[];
  snaps: { parent: Snapshot; branch: Snapshot };
}): Node[] {
  const { nodes } = o;
  const edges = buildEdges(o);
  const ranks = new Map(nodes.map((n) => [n.key, rank(n, o.snaps)]));
  const cmp = (a: Node, b: Node) =>
    (ranks.get(a.key) as number) - (ranks.get(b.key) as number) ||
    byString(a.objectId, b.objectId) ||
    byString(a.action, b.action) ||
    a.seq - b.seq;
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const indegree = new Map(nodes.map((n) => [n.key, 0]));
  const next = new Map<string, string[]>();
  for (const [from, tos] of edges) {
    next.set(from, [...tos]);
    for (const to of tos) indegree.set(to, (indegree.get(to) as number) + 1);
  }
  const ready = nodes.filter((n) => indegree.get(n.key) === 0).sort(cmp);
  const done = new Set<string>();
  const out: Node[] = [];
  while (out.length < nodes.length) {
    let n = ready.shift();
    if (!n) {
      // A cycle (a snapshot with inconsistent deps): break it at the lowest-ranked node.
      n = nodes.filter((x) => !done.has(x.key)).sort(cmp)[0];
      n.notes = [...n.notes, "placed by kind: its dependencies form a cycle"];
    }
    if (done.has(n.key)) continue;
    done.add(n.key);
    out.push(n);
    for (const to of next.get(n.key) ?? []) {
      const d = (indegree.get(to) as number) - 1;
      indegree.set(to, d);
      if (d === 0 && !done.has(to)) insertSorted(ready, byKey.get(to) as Node, cmp);
    }
  }
  return out;
}

function insertSorted(list: Node[], n: Node, cmp: (a: Node, b: Node) => number) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmp(list[mid], n) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, n);
}

/** from key → to keys ("from" runs first). */
function buildEdges(o: {
  nodes: Node[];
  actions: ActionMap;
  cascade: CascadeEdge[];
  snaps: { parent: Snapshot; branch: Snapshot };
}): Map<string, Set<string>> {
  const { nodes, actions, snaps } = o;
  const edges = new Map<string, Set<string>>();
  const add = (from: Node, to: Node) => {
    if (from.key === to.key) return;
    let set = edges.get(from.key);
    if (!set) {
      set = new Set();
      edges.set(from.key, set);
    }
    set.add(to.key);
  };
  const providers = index(nodes, (n) => n.provides);
  const byAction = index(nodes, (n) => [n.action]);
  const removersOf = removers(nodes, actions, snaps.parent);
  // Steps of one action run in the order they were made.
  for (const list of byAction.values())
    for (let i = 1; i < list.length; i++) add(list[i - 1], list[i]);
  for (const n of nodes) {
    // Needs what it requires to exist first.
    for (const r of n.requires)
      for (const p of providers.get(r) ?? []) if (p.action !== n.action) add(p, n);
  }
  const dependents = dependentsIndex(snaps.parent);
  for (const id of [...actions.keys()].sort(byString)) {
    const gone = removersOf(id);
    if (gone.length === 0) continue;
    const before = snaps.parent.objects[id];
    // Dependents go before what they depend on.
    for (const d of before ? [...before.deps, ...ownersOf(before, snaps.parent)] : []) {
      for (const r of removersOf(d)) for (const g of gone) add(g, r);
    }
    // Dependents rewritten in place to stop needing it are rewritten before it goes.
    for (const y of dependents.get(id) ?? []) {
      for (const n of byAction.get(y) ?? []) if (n.op === "alter") for (const g of gone) add(n, g);
    }
    // It goes before it (or another object of its name) is created again.
    for (const c of providers.get(id) ?? [])
      for (const g of gone) if (g.action !== c.action && c.op === "create") add(g, c);
  }
  addNameClashes(nodes, snaps, add);
  addTableOrder(nodes, add);
  for (const e of o.cascade) {
    const dependent = byAction.get(e.dependent) ?? [];
    const on = byAction.get(e.on) ?? [];
    for (const d of dependent) {
      for (const x of on) {
        if (d.op === "drop") add(d, x);
        else if (d.op === "create") add(x, d);
      }
    }
  }
  return edges;
}

function index(nodes: Node[], keys: (n: Node) => string[]): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  for (const n of nodes) for (const k of keys(n)) out.set(k, [...(out.get(k) ?? []), n]);
  return out;
}

/** The nodes that make an id go away: its own drop, or (dropped with its owner) the owner's. */
function removers(nodes: Node[], actions: ActionMap, parent: Snapshot) {
  const explicit = index(nodes, (n) => n.removes);
  const memo = new Map<string, Node[]>();
  const find = (id: string, depth: number): Node[] => {
    const hit = memo.get(id);
    if (hit) return hit;
    let out = explicit.get(id) ?? [];
    const a = actions.get(id);
    const implicit =
      (a?.mode === "drop" && a.implicit) || (a?.mode === "recreate" && a.implicitDrop);
    if (out.length === 0 && implicit && depth < 8) {
      const obj = parent.objects[id] as DbObject;
      // The first owner that goes takes it along (its own table before an inheritance parent).
      for (const owner of ownersOf(obj, parent)) {
        out = find(owner, depth + 1);
        if (out.length > 0) break;
      }
    }
    memo.set(id, out);
    return out;
  };
  return (id: string) => find(id, 0);
}

/** Relations and types share one namespace per schema: a drop frees the name a create may reuse. */
function addNameClashes(
  nodes: Node[],
  snaps: { parent: Snapshot; branch: Snapshot },
  add: (a: Node, b: Node) => void,
) {
  const nameOf = (id: string): string | null => {
    const o = snaps.branch.objects[id] ?? snaps.parent.objects[id];
    if (!o) return null;
    switch (o.kind) {
      case "table":
      case "view":
      case "matview":
      case "sequence":
      case "index":
      case "composite":
      case "enum":
      case "domain":
      case "range":
        return qualified(o.schema, o.name);
      case "constraint":
        // A key or exclusion constraint's index takes the constraint's name.
        return o.type === "p" || o.type === "u" || o.type === "x"
          ? qualified(o.schema, o.name)
          : null;
      default:
        return null;
    }
  };
  const drops = index(
    nodes.filter((n) => n.op === "drop"),
    (n) => [nameOf(n.objectId) ?? ""],
  );
  for (const n of nodes) {
    if (n.op !== "create") continue;
    const name = nameOf(n.objectId);
    if (!name) continue;
    for (const d of drops.get(name) ?? []) if (d.action !== n.action) add(d, n);
  }
}

/**
 * On one table: constraints and indexes go before its columns change, and come after.
 * ATTACH PARTITION waits for every column change of both tables (their shapes must match).
 */
function addTableOrder(nodes: Node[], add: (a: Node, b: Node) => void) {
  const byTable = index(
    nodes.filter((n) => n.table !== null),
    (n) => [n.table as string],
  );
  for (const n of nodes) {
    for (const t of n.step.afterColumnsOf ?? []) {
      for (const c of byTable.get(t) ?? []) if (c.kind === "column") add(c, n);
    }
  }
  for (const list of byTable.values()) {
    const columns = list.filter((n) => n.kind === "column");
    for (const n of list) {
      if (n.kind !== "constraint" && n.kind !== "index") continue;
      for (const c of columns) {
        if (n.op === "drop") add(n, c);
        else if (c.op !== "drop") add(c, n);
      }
    }
  }
}
