/**
 * A parsed PostgREST request, as plain data: what the query string and headers ask for,
 * before any name is checked against the schema cache. Produced by parse-*.ts, consumed by
 * the SQL builder (which resolves every name through the cache and quotes it).
 */

/** `col`, `col->a->>b`: a column with an optional JSON path (keys stay data: bind parameters). */
export interface Field {
  name: string;
  json: { arrow: "->" | "->>"; key: string }[];
}

export type SelectItem =
  | { kind: "star" }
  | { kind: "column"; field: Field; alias?: string; cast?: string }
  | {
      kind: "embed";
      /** The related table (or a foreign key's column or constraint name). */
      name: string;
      alias?: string;
      /** `!hint`: foreign key constraint name or one of its columns. */
      hint?: string;
      inner: boolean;
      select: SelectItem[];
    };

export const OPERATORS = [
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "like",
  "ilike",
  "match",
  "imatch",
  "is",
  "isdistinct",
  "in",
  "cs",
  "cd",
  "ov",
  "sl",
  "sr",
  "nxl",
  "nxr",
  "adj",
  "fts",
  "plfts",
  "phfts",
  "wfts",
] as const;
export type Operator = (typeof OPERATORS)[number];

export type FilterValue =
  | { kind: "scalar"; value: string }
  /** `in.(a,b)` and `eq(any).{a,b}`. */
  | { kind: "list"; values: string[]; quantifier?: "any" | "all" }
  | { kind: "is"; value: "null" | "not_null" | "true" | "false" | "unknown" }
  | { kind: "fts"; config?: string; value: string };

export type Condition =
  | { kind: "filter"; field: Field; negate: boolean; op: Operator; value: FilterValue }
  | { kind: "logic"; op: "and" | "or"; negate: boolean; children: Condition[] };

export interface OrderTerm {
  field: Field;
  desc: boolean;
  nulls?: "first" | "last";
}

/** What applies at one level of the embedding tree: `[]` is the root, `["comments"]` an embed. */
export interface Level {
  path: string[];
  conditions: Condition[];
  order: OrderTerm[];
  limit?: number;
  offset?: number;
}

export interface ParsedQuery {
  select: SelectItem[];
  /** Levels by path joined with "." ("" for the root). */
  levels: Map<string, Level>;
  /** `columns=`: the payload keys an insert or upsert uses. */
  columns?: string[];
  /** `on_conflict=`: the unique columns an upsert matches on. */
  onConflict?: string[];
}

/** The `Prefer` header, as far as bough honours it. */
export interface Preferences {
  count?: "exact" | "planned" | "estimated";
  return?: "representation" | "minimal" | "headers-only";
  resolution?: "merge-duplicates" | "ignore-duplicates";
  missing?: "default" | "null";
  tx?: "commit" | "rollback";
  /** `params=single-object`: the whole body is the function's one json argument. */
  singleObject: boolean;
}
