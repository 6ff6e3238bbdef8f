import type { ViewObject } from "../../catalog/snapshot.ts";
import { bare, lit, qname } from "./refs.ts";
import { type Converter, type SqlStep, step } from "./step.ts";

const withOptions = (v: ViewObject) =>
  v.options.length > 0 ? ` WITH (${v.options.map(optionText).join(", ")})` : "";

function optionText(o: string): string {
  const eq = o.indexOf("=");
  return eq < 0 ? o : `${o.slice(0, eq)}=${lit(o.slice(eq + 1))}`;
}

const optionName = (o: string) => (o.includes("=") ? o.slice(0, o.indexOf("=")) : o);

function optionSteps(before: ViewObject, after: ViewObject, word: string): SqlStep[] {
  const q = qname(after.schema, after.name);
  const out: SqlStep[] = [];
  const names = after.options.map(optionName);
  const reset = before.options.map(optionName).filter((n) => !names.includes(n));
  if (reset.length > 0) out.push(step(`ALTER ${word} ${q} RESET (${reset.join(", ")});`));
  const set = after.options.filter((o) => !before.options.includes(o));
  if (set.length > 0) out.push(step(`ALTER ${word} ${q} SET (${set.map(optionText).join(", ")});`));
  return out;
}

export const viewSql: Converter<ViewObject> = {
  create: (v) => [
    step(`CREATE VIEW ${qname(v.schema, v.name)}${withOptions(v)} AS\n${bare(v.definition)};`),
  ],
  drop: (v) => [step(`DROP VIEW ${qname(v.schema, v.name)};`)],
  alter: (before, after) => {
    if (before.definition === after.definition) return optionSteps(before, after, "VIEW");
    // CREATE OR REPLACE replaces the options too: it names every one the view keeps.
    return [
      step(
        `CREATE OR REPLACE VIEW ${qname(after.schema, after.name)}${withOptions(after)} AS\n${bare(after.definition)};`,
      ),
    ];
  },
  // CREATE OR REPLACE may only append columns; anything else is a drop and a create.
  impact: (before, after) =>
    before.definition === after.definition ||
    onlyAppendsColumns(before.definition, after.definition)
      ? "in-place"
      : "recreate",
};

export const matviewSql: Converter<ViewObject> = {
  create: (v) => [
    step(
      `CREATE MATERIALIZED VIEW ${qname(v.schema, v.name)}${withOptions(v)} AS\n${bare(v.definition)}\nWITH DATA;`,
      ["populates-materialized-view"],
    ),
  ],
  drop: (v) => [step(`DROP MATERIALIZED VIEW ${qname(v.schema, v.name)};`)],
  alter: (before, after) => optionSteps(before, after, "MATERIALIZED VIEW"),
  impact: (before, after) => (before.definition === after.definition ? "in-place" : "recreate"),
};

/**
 * True when `after` is `before` with output columns added at the end and nothing else
 * changed (same select list prefix, same FROM onwards): what CREATE OR REPLACE VIEW allows.
 */
export function onlyAppendsColumns(before: string, after: string): boolean {
  const a = splitSelect(bare(before));
  const b = splitSelect(bare(after));
  if (!a || !b || a.head !== b.head || a.rest !== b.rest || b.items.length < a.items.length)
    return false;
  return a.items.every((item, i) => item === b.items[i]);
}

const CLAUSE =
  /^(from|where|group|having|window|union|intersect|except|order|limit|offset|fetch|for)\b/iu;

/** Splits " SELECT [DISTINCT] a, b FROM ..." at top level; null for anything else (WITH, VALUES). */
function splitSelect(def: string): { head: string; items: string[]; rest: string } | null {
  const m = /^\s*(SELECT(?:\s+DISTINCT)?)\s/iu.exec(def);
  if (!m) return null;
  const items: string[] = [];
  let depth = 0;
  let start = m[0].length;
  let i = start;
  while (i < def.length) {
    const ch = def[i];
    if (ch === "'" || ch === '"') {
      const end = def.indexOf(ch, i + 1);
      if (end < 0) return null;
      // A doubled quote inside a literal is skipped by continuing after it.
      i = end + 1;
      continue;
    }
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0 && ch === ",") {
      items.push(def.slice(start, i).trim());
      start = i + 1;
    } else if (depth === 0 && /\s/u.test(ch) && CLAUSE.test(def.slice(i + 1))) {
      items.push(def.slice(start, i).trim());
      return { head: m[1], items, rest: def.slice(i).trim() };
    }
    i++;
  }
  items.push(def.slice(start).trim());
  return { head: m[1], items, rest: "" };
}
