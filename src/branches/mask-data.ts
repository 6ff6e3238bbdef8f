import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { quoteIdent } from "../core/names.ts";
import {
  columnLabel,
  foreignKeyProblems,
  hmacPads,
  type MaskRule,
  renderOn,
  renderRule,
} from "../platform/mask/rules.ts";
import {
  checkMaskRule,
  foreignKeyColumns,
  listMaskRules,
  maskColumn,
} from "../platform/mask/store.ts";
import { dropParentWal, refreshMatviews } from "./schema-only.ts";
import { materializedViews } from "./schema-only-sql.ts";
import { withClient } from "./sql.ts";

export interface MaskedData {
  /** "S.T.C" → rule, as applied (auth's defaults included). */
  columns: Record<string, string>;
  tables: number;
  matviewsRefreshed: number;
  matviewsUnpopulated: string[];
}

// Nothing of a masking run may end up in the server log: not the statements (they carry the
// key pads as parameters), not an error's row. Set per session, above any role or database setting.
const QUIET_SESSION = `SET log_statement = 'none'; SET log_min_duration_statement = -1;
  SET log_min_error_statement = 'panic'; SET log_parameter_max_length = 0;
  SET log_parameter_max_length_on_error = 0; SET log_duration = off; SET log_min_messages = 'panic'`;

/** jsonb keys of auth's user and identity data that copy the user's email, phone or name. */
const AUTH_JSON_KEYS = {
  email: ["email"],
  phone: ["phone"],
  name: ["name", "full_name", "user_name", "preferred_username", "nickname"],
} as const;

interface TableMask {
  schema: string;
  table: string;
  sets: string[];
}

/**
 * Masks the project database of a fresh clone before anyone can see it: the rules in
 * bough.mask_rules, plus auth's users and identities (emails, phones and names also where
 * auth copies them into jsonb) and the sent-mail outbox (deleted: it holds the real
 * addresses). Then nothing of the old values is left to read: the masked tables are
 * rewritten (heap, TOAST, indexes), materialized views refreshed, their statistics rebuilt,
 * and the WAL that held the old values dropped. Run with EMPTYING_RUN_SETTINGS.
 */
export async function maskBranchData(url: string, key: Uint8Array): Promise<MaskedData> {
  return withClient(url, async (c) => {
    await c.query(QUIET_SESSION);
    const pads = hmacPads(key);
    const { masks, columns } = await planMasks(c);
    // Triggers and foreign-key checks off: user triggers must not see (or copy) the old
    // values, and both sides of a key change to the same fake, one table after the other.
    await c.query("SET session_replication_role = replica");
    for (const m of masks.values()) {
      // Every statement binds the key pads: extended protocol, one statement, key never in the text.
      await c
        .query(
          `UPDATE ${quoteIdent(m.schema)}.${quoteIdent(m.table)} SET ${m.sets.join(", ")}
            WHERE $1::bytea IS NOT NULL AND $2::bytea IS NOT NULL`,
          pads,
        )
        .catch((err) => {
          throw maskFailure(`${m.schema}.${m.table}`, err);
        });
    }
    const outbox = await c.query<{ ok: boolean }>(
      "SELECT to_regclass('email.outbox') IS NOT NULL AS ok",
    );
    const rewrite = [...masks.values()].map(
      (m) => `${quoteIdent(m.schema)}.${quoteIdent(m.table)}`,
    );
    if (outbox.rows[0].ok) {
      await c.query("DELETE FROM email.outbox");
      rewrite.push("email.outbox");
    }
    // The parent's DDL history holds its statements' text, literals included; the branch's
    // own history starts after the fork anyway (src/platform/ddl-log).
    const ddlLog = await c.query<{ ok: boolean }>(
      "SELECT to_regclass('bough.ddl_log') IS NOT NULL AS ok",
    );
    if (ddlLog.rows[0].ok) {
      await c.query("TRUNCATE bough.ddl_log");
      // Its statistics (most common values) were gathered on the parent; pg_statistic is
      // rewritten below, after the masked tables are analysed.
      await c.query("DELETE FROM pg_statistic WHERE starelid = 'bough.ddl_log'::regclass");
    }
    await c.query("RESET session_replication_role");
    const leaves = await withInheritors(c, rewrite);
    // VACUUM FULL writes new files for heap, TOAST and every index: old tuples and old index
    // entries go with the old files.
    if (leaves.length > 0) await c.query(`VACUUM FULL ${leaves.join(", ")}`);
    const matviews = await refreshMatviews(c, await materializedViews(c));
    const analysed = [...leaves, ...(await materializedViews(c))];
    // Statistics hold sample values (most common values, histograms, MCV lists).
    await c.query(
      "DELETE FROM pg_catalog.pg_statistic WHERE starelid = ANY($1::regclass[]::oid[])",
      [analysed],
    );
    if (analysed.length > 0) await c.query(`ANALYZE ${analysed.join(", ")}`);
    await c.query("VACUUM FULL pg_catalog.pg_statistic, pg_catalog.pg_statistic_ext_data");
    await dropParentWal(c);
    return {
      columns,
      tables: leaves.length,
      matviewsRefreshed: matviews.refreshed,
      matviewsUnpopulated: matviews.unpopulated,
    };
  });
}

/** The UPDATE of each table: the stored rules (checked again, on this copy) and auth's defaults. */
async function planMasks(
  c: pg.ClientBase,
): Promise<{ masks: Map<string, TableMask>; columns: Record<string, string> }> {
  const masks = new Map<string, TableMask>();
  const columns: Record<string, string> = {};
  const add = (schema: string, table: string, column: string, rule: string, set: string) => {
    const k = `${schema}.${table}`;
    const m = masks.get(k) ?? { schema, table, sets: [] };
    m.sets.push(`${quoteIdent(column)} = ${set}`);
    masks.set(k, m);
    columns[columnLabel({ schema, table, column })] = rule;
  };
  const stored = (
    await c.query<{ ok: boolean }>("SELECT to_regclass('bough.mask_rules') IS NOT NULL AS ok")
  ).rows[0].ok
    ? await listMaskRules(c)
    : [];
  await c.query("BEGIN");
  try {
    for (const r of stored) {
      const { rule, column } = await checkMaskRule(c, r, r.rule).catch((err) => {
        throw new BoughError(
          "MASK_FAILED",
          `the masking rule of ${columnLabel(r)} no longer applies: ${(err as Error).message}`,
          `fix or remove it on the parent (\`bough mask unset ${columnLabel(r)}\`), then create the branch again`,
        );
      });
      add(r.schema, r.table, r.column, r.rule, renderRule(rule, column));
    }
    const fkProblems = foreignKeyProblems(
      new Map(Object.entries(columns)),
      await foreignKeyColumns(c),
    );
    if (fkProblems.length > 0) {
      throw new BoughError(
        "MASK_FAILED",
        `masking would break foreign keys: ${fkProblems.join("; ")}`,
        "give both columns of a foreign key the same rule (`bough mask set`), then create the branch again",
      );
    }
    await addAuthDefaults(c, columns, add);
  } finally {
    await c.query("ROLLBACK");
  }
  return { masks, columns };
}

const TEXT = { typeSql: "text", baseType: "text", maxLength: null };

/**
 * Auth's users are masked on every masked branch: the email (and phone, where the schema
 * has one) unless a rule says otherwise, the same email fake wherever auth copies it into
 * jsonb, names there with the name rule, and other providers' user ids hashed.
 */
async function addAuthDefaults(
  c: pg.ClientBase,
  columns: Record<string, string>,
  add: (schema: string, table: string, column: string, rule: string, set: string) => void,
): Promise<void> {
  const rules: Record<keyof typeof AUTH_JSON_KEYS, MaskRule> = {
    email: { kind: "email" },
    phone: { kind: "phone" },
    name: { kind: "name" },
  };
  for (const field of ["email", "phone"] as const) {
    const at = { schema: "auth", table: "users", column: field };
    const label = columnLabel(at);
    const col = await maskColumn(c, at);
    if ("missing" in col) continue;
    if (columns[label] === undefined)
      add("auth", "users", field, field, renderRule(rules[field], col));
  }
  const jsonMask = (column: string) =>
    `${quoteIdent(column)} || jsonb_strip_nulls(jsonb_build_object(${Object.entries(AUTH_JSON_KEYS)
      .flatMap(([kind, keys]) =>
        keys.map(
          (k) =>
            `'${k}', ${renderOn(rules[kind as keyof typeof AUTH_JSON_KEYS], `${quoteIdent(column)} ->> '${k}'`, TEXT)}`,
        ),
      )
      .join(", ")}))`;
  for (const [table, column] of [
    ["users", "raw_user_meta_data"],
    ["identities", "identity_data"],
  ]) {
    const at = { schema: "auth", table, column };
    if ("missing" in (await maskColumn(c, at)) || columns[columnLabel(at)] !== undefined) continue;
    add("auth", table, column, "email, phone and name fields", jsonMask(column));
  }
  const providerId = { schema: "auth", table: "identities", column: "provider_id" };
  if (
    !("missing" in (await maskColumn(c, providerId))) &&
    columns[columnLabel(providerId)] === undefined
  ) {
    add(
      "auth",
      "identities",
      "provider_id",
      "hash (other providers than email)",
      `CASE WHEN provider = 'email' THEN provider_id ELSE ${renderOn({ kind: "hash" }, "provider_id", TEXT)} END`,
    );
  }
}

/** The tables and every table inheriting from them (partitions too), minus partitioned parents (no rows). */
async function withInheritors(c: pg.ClientBase, tables: string[]): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    `WITH RECURSIVE t(oid) AS (
       SELECT unnest($1::regclass[])::oid
       UNION SELECT i.inhrelid FROM pg_inherits i JOIN t ON i.inhparent = t.oid)
     SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM t JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' ORDER BY 1`,
    [tables],
  );
  return rows.map((r) => r.name);
}

function maskFailure(table: string, err: unknown): BoughError {
  const e = err as Error & { code?: string; constraint?: string };
  if (e.code === "23505") {
    return new BoughError(
      "MASK_FAILED",
      `masked values of ${table} collide on unique constraint ${e.constraint ?? "?"}: two different values got the same fake`,
      "mask that column with hash (64 hex digits) or a sql: rule that keeps it unique, then create the branch again",
    );
  }
  return new BoughError(
    "MASK_FAILED",
    `masking ${table} failed: ${e.message}`,
    "fix the rule (`bough mask list`, `bough mask set`) and create the branch again",
  );
}
