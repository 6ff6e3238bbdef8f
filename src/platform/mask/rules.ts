import { BoughError } from "../../core/errors.ts";
import { quoteIdent, quoteLiteral } from "../../core/names.ts";

// Masking rules (`bough mask set S.T.C RULE`): parsed, checked against a column and rendered
// to the SQL expression an UPDATE assigns. Pure: no I/O, every name quoted, every literal escaped.
//
// The keyed hash is HMAC-SHA256 built from Postgres' builtin sha256() (no pgcrypto, no
// extension in the branch's schema), its inner and outer key pads passed as the bind
// parameters $1 and $2: the key never appears in SQL text. Its input is the value's text form,
// so a value masks the same in every table and column (joins and foreign keys keep working).

export type MaskRule =
  | { kind: "email" | "name" | "phone" | "hash" | "null" }
  | { kind: "fixed"; value: string }
  | { kind: "partial"; prefix: number; pad: string; suffix: number }
  | { kind: "sql"; expression: string };

/** Hex digits of the hash an email fake keeps: 48 bits (see README: collisions). */
export const EMAIL_HASH_CHARS = 12;
const EMAIL_LENGTH = "user_".length + EMAIL_HASH_CHARS + "@example.invalid".length;
const PHONE_DIGITS = 10;
const PHONE_LENGTH = "+1555".length + PHONE_DIGITS;

const FIRST_NAMES =
  "Alex Blake Casey Dana Eli Frankie Gray Harper Indy Jamie Kai Lee Morgan Noa Oakley Parker Quinn Riley Sage Taylor Uma Val Wren Yael".split(
    " ",
  );
const LAST_NAMES =
  "Archer Brooks Carter Diaz Ellis Fischer Garcia Hughes Ito Jensen Khan Lopez Moreau Nakamura Okafor Patel Rossi Silva Tanaka Ueda Varga Weber Young Zhou".split(
    " ",
  );
const NAME_LENGTH =
  Math.max(...FIRST_NAMES.map((f) => f.length)) + 1 + Math.max(...LAST_NAMES.map((l) => l.length));

const SIMPLE = ["email", "name", "phone", "hash", "null"] as const;
export const RULE_SYNTAX =
  "email, name, phone, hash, null, fixed:'text', partial(2,'*',2) or sql:EXPRESSION (with {{value}} and {{hash}})";

function invalid(message: string): BoughError {
  return new BoughError("INVALID_INPUT", message, `a rule is one of: ${RULE_SYNTAX}`);
}

/** A single-quoted SQL-style string ('' is a quote) at the start of s: its value and the rest. */
function quoted(s: string): { value: string; rest: string } | null {
  if (!s.startsWith("'")) return null;
  let value = "";
  for (let i = 1; i < s.length; i++) {
    if (s[i] !== "'") value += s[i];
    else if (s[i + 1] === "'") {
      value += "'";
      i++;
    } else return { value, rest: s.slice(i + 1) };
  }
  return null;
}

export function parseRule(text: string): MaskRule {
  const t = text.trim();
  if ((SIMPLE as readonly string[]).includes(t)) return { kind: t as (typeof SIMPLE)[number] };
  if (t.startsWith("fixed:")) {
    const q = quoted(t.slice("fixed:".length).trim());
    if (q?.rest.trim() !== "") throw invalid(`fixed needs one quoted value: fixed:'x', not ${t}`);
    return { kind: "fixed", value: q.value };
  }
  if (t.startsWith("sql:")) {
    const expression = t.slice("sql:".length).trim();
    if (expression === "") throw invalid("sql: needs an expression, e.g. sql:upper({{value}})");
    return { kind: "sql", expression };
  }
  const m = /^partial\(\s*(\d{1,4})\s*,\s*(.*?)\s*,\s*(\d{1,4})\s*\)$/s.exec(t);
  if (m) {
    const q = quoted(m[2]);
    if (q?.rest !== "" || q.value === "") {
      throw invalid(`partial needs a non-empty quoted padding: partial(2,'*',2), not ${t}`);
    }
    return { kind: "partial", prefix: Number(m[1]), pad: q.value, suffix: Number(m[3]) };
  }
  throw invalid(`unknown masking rule "${t}"`);
}

/** The canonical text of a rule: what is stored and shown. */
export function formatRule(r: MaskRule): string {
  switch (r.kind) {
    case "fixed":
      return `fixed:${quoteLiteral(r.value)}`;
    case "partial":
      return `partial(${r.prefix},${quoteLiteral(r.pad)},${r.suffix})`;
    case "sql":
      return `sql:${r.expression}`;
    default:
      return r.kind;
  }
}

/** What a rule needs to know of its column (from the catalog; domains resolved to their base type). */
export interface MaskColumn {
  schema: string;
  table: string;
  column: string;
  /** format_type() of the column's type, as Postgres spells (and quotes) it. */
  typeSql: string;
  /** Base type's name: text, varchar, bpchar, uuid, bytea, int4, ... */
  baseType: string;
  /** pg_type.typcategory of the base type ('S' for strings). */
  category: string;
  isArray: boolean;
  /** varchar(n)/char(n): n; otherwise null. */
  maxLength: number | null;
  notNull: boolean;
  /** The sole column of a unique index or primary key. */
  unique: boolean;
  generated: boolean;
}

export const columnLabel = (c: { schema: string; table: string; column: string }) =>
  `${c.schema}.${c.table}.${c.column}`;

/** Why a rule cannot mask this column, or null when it fits. */
export function ruleMisfit(r: MaskRule, c: MaskColumn): string | null {
  const type = `${columnLabel(c)} is ${c.typeSql}`;
  if (c.generated)
    return `${columnLabel(c)} is a generated column: mask the columns it is computed from`;
  const isString = c.category === "S" && !c.isArray;
  const fits = (len: number) =>
    c.maxLength === null || len <= c.maxLength
      ? null
      : `${type}: a ${r.kind} fake has up to ${len} characters`;
  switch (r.kind) {
    case "email":
      return isString ? fits(EMAIL_LENGTH) : `${type}: email masks text columns only`;
    case "phone":
      return isString ? fits(PHONE_LENGTH) : `${type}: phone masks text columns only`;
    case "name":
      if (c.unique) return `${type} and unique: name fakes repeat (pick hash or email)`;
      return isString ? fits(NAME_LENGTH) : `${type}: name masks text columns only`;
    case "partial":
      return isString ? null : `${type}: partial masks text columns only`;
    case "hash":
      return isString || (!c.isArray && ["uuid", "bytea"].includes(c.baseType))
        ? null
        : `${type}: hash masks text, uuid and bytea columns only`;
    case "null":
      return c.notNull ? `${type} NOT NULL: it cannot be masked with null` : null;
    case "fixed":
      if (c.unique) return `${type} and unique: a fixed value would repeat on every row`;
      return isString ? fits(r.value.length) : null;
    case "sql":
      return null;
  }
}

/** HMAC-SHA256(key, text) as 64 hex digits, in SQL: $1 and $2 are the inner and outer key pads. */
export function hmacHexSql(textSql: string): string {
  return `encode(sha256($2::bytea || sha256($1::bytea || convert_to(${textSql}, 'UTF8'))), 'hex')`;
}

/** The HMAC key pads ($1, $2 of every rendered expression) for a key of at most 64 bytes. */
export function hmacPads(key: Uint8Array): [Buffer, Buffer] {
  if (key.length > 64)
    throw new Error("an HMAC-SHA256 key longer than a block must be hashed first");
  const block = Buffer.alloc(64);
  block.set(key);
  return [Buffer.from(block.map((b) => b ^ 0x36)), Buffer.from(block.map((b) => b ^ 0x5c))];
}

const arrayOf = (items: string[]) => `ARRAY[${items.map(quoteLiteral).join(", ")}]`;
/** Unsigned integer from hex digits [from, from + n) of a hash (n ≤ 15 fits a bigint). */
const hexInt = (hash: string, from: number, n: number) =>
  `('x' || substr(${hash}, ${from + 1}, ${n}))::bit(${n * 4})::bigint`;

/**
 * The expression an UPDATE assigns to the column: same input, same fake. NULL stays NULL
 * (every builtin rule is strict); a sql: rule decides for itself.
 */
export function renderRule(r: MaskRule, c: MaskColumn): string {
  return renderOn(r, quoteIdent(c.column), c);
}

/** renderRule for any text-valued SQL (auth masks jsonb fields with it). */
export function renderOn(
  r: MaskRule,
  valueSql: string,
  c: Pick<MaskColumn, "typeSql" | "baseType" | "maxLength">,
): string {
  const text = `(${valueSql})::text`;
  const h = hmacHexSql(text);
  switch (r.kind) {
    case "email":
      return `'user_' || left(${h}, ${EMAIL_HASH_CHARS}) || '@example.invalid'`;
    case "name":
      return `(${arrayOf(FIRST_NAMES)})[1 + ${hexInt(h, 0, 8)} % ${FIRST_NAMES.length}] || ' ' || (${arrayOf(LAST_NAMES)})[1 + ${hexInt(h, 8, 8)} % ${LAST_NAMES.length}]`;
    case "phone":
      return `'+1555' || lpad((${hexInt(h, 0, 15)} % ${10 ** PHONE_DIGITS})::text, ${PHONE_DIGITS}, '0')`;
    case "hash":
      if (c.baseType === "uuid") return `left(${h}, 32)::uuid`;
      if (c.baseType === "bytea") return `decode(${h}, 'hex')`;
      return c.maxLength === null ? h : `left(${h}, ${c.maxLength})`;
    case "null":
      return "NULL";
    case "fixed":
      return `CASE WHEN ${valueSql} IS NULL THEN NULL ELSE ${quoteLiteral(r.value)}::${c.typeSql} END`;
    case "partial": {
      const len = `length(${text})`;
      const keep = r.prefix + r.suffix;
      const pad = (n: string) => `left(repeat(${quoteLiteral(r.pad)}, ${n}), ${n})`;
      // A value no longer than what is kept is padded whole: it would be shown entire otherwise.
      return `CASE WHEN ${len} > ${keep} THEN left(${text}, ${r.prefix}) || ${pad(`${len} - ${keep}`)} || right(${text}, ${r.suffix}) ELSE ${pad(len)} END`;
    }
    case "sql":
      return `(${r.expression.replaceAll("{{value}}", valueSql).replaceAll("{{hash}}", h)})`;
  }
}

/** One foreign key, column by column: referencing (from) and referenced (to). */
export interface ForeignKeyColumns {
  name: string;
  from: { schema: string; table: string; column: string };
  to: { schema: string; table: string; column: string };
}

/**
 * Foreign keys a set of rules would break: a column masked on one side only, or with
 * different rules (the fakes would no longer match). Masking runs with triggers off, so
 * nothing cascades: both sides must get the same rule.
 */
export function foreignKeyProblems(rules: Map<string, string>, fks: ForeignKeyColumns[]): string[] {
  const problems: string[] = [];
  for (const fk of fks) {
    const a = rules.get(columnLabel(fk.from));
    const b = rules.get(columnLabel(fk.to));
    if (a === b) continue;
    problems.push(
      `foreign key ${fk.name}: ${columnLabel(fk.from)} is ${a ?? "not masked"} but ${columnLabel(fk.to)} is ${b ?? "not masked"}`,
    );
  }
  return problems;
}
