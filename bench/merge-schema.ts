/**
 * The merge benchmark's schema, as SQL text, at a scale (1 or 10): per 1,000 tables x 10
 * columns spread over 5 schemas, each with a primary key and one secondary index (1,000
 * CREATE INDEX), 300 foreign keys and 200 views; and the branch's 50 changes to it.
 * Pure: every name is a generated constant (s0.t0042), never input.
 */

export interface SchemaSize {
  tables: number;
  indexes: number;
  foreignKeys: number;
  views: number;
}

/** Scale 1: 1,000 tables, 50 changes; scale 10: 10,000 tables, 500 changes. */
export const schemaSize = (scale: number): SchemaSize => ({
  tables: 1000 * scale,
  indexes: 1000 * scale,
  foreignKeys: 300 * scale,
  views: 200 * scale,
});

const SCHEMAS = 5;
const pad = (i: number) => String(i).padStart(4, "0");
const schemaOf = (i: number) => `s${i % SCHEMAS}`;
export const table = (i: number) => `${schemaOf(i)}.t${pad(i)}`;
const view = (j: number) => `${schemaOf(j)}.v${pad(j)}`;

function createTable(i: number): string {
  return `CREATE TABLE ${table(i)} (
  id bigint PRIMARY KEY,
  c1 text NOT NULL DEFAULT '',
  c2 integer,
  c3 numeric(12,2) DEFAULT 0,
  c4 timestamptz NOT NULL DEFAULT now(),
  c5 boolean NOT NULL DEFAULT false,
  c6 jsonb,
  c7 varchar(100),
  c8 date,
  parent_id bigint
)`;
}

function createIndex(i: number): string {
  return i % 2 === 0
    ? `CREATE INDEX t${pad(i)}_c2_idx ON ${table(i)} (c2)`
    : `CREATE INDEX t${pad(i)}_c7_c8_idx ON ${table(i)} (c7, c8 DESC)`;
}

/** Foreign keys: tables 1..N each reference the previous table. */
const fkName = (i: number) => `t${pad(i)}_parent_fk`;
function addForeignKey(i: number): string {
  return `ALTER TABLE ${table(i)} ADD CONSTRAINT ${fkName(i)} FOREIGN KEY (parent_id) REFERENCES ${table(i - 1)} (id)`;
}

/** Views over every 5th table: even ones join the parent table, odd ones filter. */
function viewSql(j: number, extraColumn: boolean): string {
  const i = j * 5;
  const extra = extraColumn ? ", a.c8" : "";
  if (j % 2 === 0 && i > 0) {
    return `CREATE OR REPLACE VIEW ${view(j)} AS SELECT a.id, a.c1, a.c4, p.c1 AS parent_c1${extra} FROM ${table(i)} a LEFT JOIN ${table(i - 1)} p ON p.id = a.parent_id`;
  }
  return `CREATE OR REPLACE VIEW ${view(j)} AS SELECT a.id, a.c1, a.c4, a.c5${extra} FROM ${table(i)} a WHERE a.c5`;
}

/**
 * The schema in batches, each run as one multi-statement query (one transaction): a
 * single transaction creating everything would overflow the lock table (max_locks_per_transaction).
 */
export function schemaBatches(size: SchemaSize): string[] {
  const batches: string[][] = [Array.from({ length: SCHEMAS }, (_, k) => `CREATE SCHEMA s${k}`)];
  for (let start = 0; start < size.tables; start += 100) {
    const batch: string[] = [];
    for (let i = start; i < start + 100; i++) batch.push(createTable(i), createIndex(i));
    batches.push(batch);
  }
  const fks = Array.from({ length: size.foreignKeys }, (_, k) => addForeignKey(k + 1));
  for (let k = 0; k < fks.length; k += 100) batches.push(fks.slice(k, k + 100));
  const views = Array.from({ length: size.views }, (_, j) => viewSql(j, false));
  for (let k = 0; k < views.length; k += 100) batches.push(views.slice(k, k + 100));
  return batches.map((b) => `${b.join(";\n")};`);
}

/**
 * The branch's changes, 50 per scale step: 15 added columns, 10 column type changes, 10
 * new indexes, 10 replaced views (one more column), 5 dropped foreign keys. Columns read
 * by views (id, c1, c4, c5, parent_id) are never retyped, so every statement applies as is.
 */
export function branchChanges(scale: number): string[] {
  const out: string[] = [];
  const at = (start: number, n: number) =>
    Array.from({ length: n * scale }, (_, k) => start * scale + k);
  for (const i of at(500, 15))
    out.push(`ALTER TABLE ${table(i)} ADD COLUMN extra text DEFAULT 'x'`);
  for (const i of at(600, 5)) out.push(`ALTER TABLE ${table(i)} ALTER COLUMN c2 TYPE bigint`);
  for (const i of at(610, 5)) out.push(`ALTER TABLE ${table(i)} ALTER COLUMN c7 TYPE varchar(200)`);
  for (const i of at(700, 10)) out.push(`CREATE INDEX t${pad(i)}_c3_idx ON ${table(i)} (c3)`);
  for (const j of at(0, 10)) out.push(viewSql(j, true));
  for (const i of at(0, 5))
    out.push(`ALTER TABLE ${table(i + 1)} DROP CONSTRAINT ${fkName(i + 1)}`);
  return out;
}
