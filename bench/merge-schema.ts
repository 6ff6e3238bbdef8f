/**
 * The merge benchmark's schema, as SQL text: 1,000 tables x 10 columns spread over 5
 * schemas, each with a primary key and one secondary index (1,000 CREATE INDEX), 300
 * foreign keys and 200 views; and the branch's 50 changes to it. Pure: every name is a
 * generated constant (s0.t0042), never input.
 */

export const SCHEMA_SIZE = { tables: 1000, indexes: 1000, foreignKeys: 300, views: 200 };

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

/** Foreign keys: tables 1..300 each reference the previous table. */
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
export function schemaBatches(): string[] {
  const batches: string[][] = [Array.from({ length: SCHEMAS }, (_, k) => `CREATE SCHEMA s${k}`)];
  for (let start = 0; start < SCHEMA_SIZE.tables; start += 100) {
    const batch: string[] = [];
    for (let i = start; i < start + 100; i++) batch.push(createTable(i), createIndex(i));
    batches.push(batch);
  }
  const fks = Array.from({ length: SCHEMA_SIZE.foreignKeys }, (_, k) => addForeignKey(k + 1));
  for (let k = 0; k < fks.length; k += 100) batches.push(fks.slice(k, k + 100));
  const views = Array.from({ length: SCHEMA_SIZE.views }, (_, j) => viewSql(j, false));
  for (let k = 0; k < views.length; k += 100) batches.push(views.slice(k, k + 100));
  return batches.map((b) => `${b.join(";\n")};`);
}

/**
 * The branch's 50 changes: 15 added columns, 10 column type changes, 10 new indexes,
 * 10 replaced views (one more column), 5 dropped foreign keys. Columns read by views
 * (id, c1, c4, c5, parent_id) are never retyped, so every statement applies as is.
 */
export function branchChanges(): string[] {
  const out: string[] = [];
  for (let k = 0; k < 15; k++)
    out.push(`ALTER TABLE ${table(500 + k)} ADD COLUMN extra text DEFAULT 'x'`);
  for (let k = 0; k < 5; k++) out.push(`ALTER TABLE ${table(600 + k)} ALTER COLUMN c2 TYPE bigint`);
  for (let k = 0; k < 5; k++)
    out.push(`ALTER TABLE ${table(610 + k)} ALTER COLUMN c7 TYPE varchar(200)`);
  for (let k = 0; k < 10; k++)
    out.push(`CREATE INDEX t${pad(700 + k)}_c3_idx ON ${table(700 + k)} (c3)`);
  for (let j = 0; j < 10; j++) out.push(viewSql(j, true));
  for (let k = 1; k <= 5; k++) out.push(`ALTER TABLE ${table(k)} DROP CONSTRAINT ${fkName(k)}`);
  return out;
}
