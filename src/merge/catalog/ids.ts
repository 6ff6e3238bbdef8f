/**
 * Snapshot identities, built in one place so every id is unambiguous and readable.
 *
 * Each name in an id is written the way Postgres prints an identifier (quote_ident,
 * keywords aside): bare when it is lowercase letters, digits and underscores, else in
 * double quotes with inner quotes doubled. So schema `a` + table `"b.c"` is `a."b.c"` and
 * schema `"a.b"` + table `c` is `"a.b".c`: no two objects share an id whatever their
 * names, and `table:public.users` stays what a person expects to read.
 *
 *   schema:S · extension:E · collation:S.N · enum:S.T · domain:S.T · composite:S.T
 *   sequence:S.Q · table:S.T · column:S.T.C · constraint:S.T.N · index:S.I · view:S.V
 *   matview:S.V · function:S.F(identity args) · trigger:S.T.N · event_trigger:N
 *   rule:S.T.N · statistics:S.N
 *   publication:P · publication_table:P:S.T · publication_schema:P:S
 *   policy:S.T.N · grant:<target id>:<grantee> · comment:<target id> · range:S.T
 *   default_privilege:<role>:<schema, * for every schema>:<objects>:<grantee>
 *
 * A grantee is `PUBLIC` for the pseudo-role and the role's name as an id part otherwise:
 * a real role named "PUBLIC" is `"PUBLIC"` (an id part is never bare uppercase).
 */
import type { DbObject, RoleSpec } from "./snapshot.ts";

const BARE = /^[a-z_][a-z0-9_]*$/u;

/** One name as it appears in an id: bare when safe, else double-quoted. */
export const idPart = (name: string) =>
  BARE.test(name) ? name : `"${name.replaceAll('"', '""')}"`;

/** Names joined with dots, each as an id part: the "S.T" of partitionOf, inherits, references, ownedBy. */
export const qualified = (...names: string[]) => names.map(idPart).join(".");

/**
 * The names of a qualified text, quotes undone: `"a.b".c` → ["a.b", "c"]. The inverse of
 * `qualified`; a malformed text (an unclosed quote) gives null.
 */
export function splitQualified(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let name = "";
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return null;
        name += text.slice(j, q);
        if (text[q + 1] !== '"') {
          i = q + 1;
          break;
        }
        name += '"';
        j = q + 2;
      }
      out.push(name);
    } else {
      const dot = text.indexOf(".", i);
      const end = dot < 0 ? text.length : dot;
      out.push(text.slice(i, end));
      i = end;
    }
    if (i === text.length) return out;
    if (text[i] !== ".") return null;
    i++;
  }
}

export const schemaId = (s: string) => `schema:${idPart(s)}`;
export const extensionId = (e: string) => `extension:${idPart(e)}`;
export const eventTriggerId = (n: string) => `event_trigger:${idPart(n)}`;
export const publicationId = (p: string) => `publication:${idPart(p)}`;
export const publicationTableId = (p: string, s: string, t: string) =>
  `publication_table:${idPart(p)}:${qualified(s, t)}`;
export const publicationSchemaId = (p: string, s: string) =>
  `publication_schema:${idPart(p)}:${idPart(s)}`;
/** Ids of objects that live in a schema: tables, views, sequences, indexes, types, collations. */
export const schemaObjectId = (kind: string, s: string, n: string) => `${kind}:${qualified(s, n)}`;
/** The id of a `kind` object whose qualified name (as stored in partitionOf, ownedBy, ...) is `q`. */
export const idOfQualified = (kind: string, q: string) => `${kind}:${q}`;
export const tableId = (s: string, n: string) => schemaObjectId("table", s, n);
export const columnId = (s: string, t: string, c: string) => `column:${qualified(s, t, c)}`;
/** Ids of objects that live on a table: constraints, triggers, policies. */
export const memberId = (kind: string, s: string, t: string, n: string) =>
  `${kind}:${qualified(s, t, n)}`;
/** `args` is pg_get_function_identity_arguments: SQL already, quoted by Postgres. */
export const functionId = (s: string, f: string, args: string) =>
  `function:${qualified(s, f)}(${args})`;
/** A role from the catalog, where null (grantee / polroles oid 0) is the PUBLIC pseudo-role. */
export const roleSpec = (name: string | null): RoleSpec =>
  name === null ? { kind: "public" } : { kind: "role", name };
export const granteeKey = (g: RoleSpec) => (g.kind === "public" ? "PUBLIC" : idPart(g.name));
export const grantId = (target: string, grantee: RoleSpec) =>
  `grant:${target}:${granteeKey(grantee)}`;
/** Roles in a stable order (code units of their keys, never a locale's). */
export function sortedRoles(roles: RoleSpec[]): RoleSpec[] {
  const key = new Map(roles.map((r) => [r, granteeKey(r)]));
  return [...roles].sort((a, b) => {
    const x = key.get(a) as string;
    const y = key.get(b) as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
export const commentId = (target: string) => `comment:${target}`;
/**
 * A default-privilege entry (role, schema or every schema, object kind) and one grantee's
 * part of it; `*` cannot be a schema's id part (that would be quoted).
 */
export const defaultAclId = (role: string, schema: string | null, objects: string) =>
  `default_acl:${idPart(role)}:${schema === null ? "*" : idPart(schema)}:${objects.replaceAll(" ", "_")}`;
export const defaultPrivilegeId = (
  role: string,
  schema: string | null,
  objects: string,
  grantee: RoleSpec,
) =>
  `default_privilege:${defaultAclId(role, schema, objects).slice("default_acl:".length)}:${granteeKey(grantee)}`;

/** The identity an object has by its own fields (what introspection gives it). */
export function objectId(o: DbObject): string {
  switch (o.kind) {
    case "schema":
      return schemaId(o.name);
    case "extension":
      return extensionId(o.name);
    case "event_trigger":
      return eventTriggerId(o.name);
    case "publication":
      return publicationId(o.name);
    case "publication_table":
      return publicationTableId(o.publication, o.schema, o.table);
    case "publication_schema":
      return publicationSchemaId(o.publication, o.schema);
    case "collation":
    case "enum":
    case "domain":
    case "composite":
    case "sequence":
    case "table":
    case "index":
    case "view":
    case "matview":
    case "statistics":
      return schemaObjectId(o.kind, o.schema, o.name);
    case "column":
      return columnId(o.schema, o.table, o.name);
    case "constraint":
    case "trigger":
    case "rule":
    case "policy":
      return memberId(o.kind, o.schema, o.table, o.name);
    case "function":
      return functionId(o.schema, o.name, o.identityArgs);
    case "grant":
      return grantId(o.target, o.grantee);
    case "comment":
      return commentId(o.target);
    case "range":
      return schemaObjectId(o.kind, o.schema, o.name);
    case "default_privilege":
      return defaultPrivilegeId(o.role, o.schema, o.objects, o.grantee);
  }
}

/**
 * The qualified name of the table a config table name from bough.table_policies means
 * ("S.T" as the user wrote it, names unquoted): split at each dot in turn, the shortest
 * schema that `has` a table wins, as the data layer resolves it in SQL (introspect/data.ts);
 * without a match, the split at the first dot.
 */
function configTable(text: string, has: (id: string) => boolean): string {
  let first: string | null = null;
  for (let i = text.indexOf("."); i >= 0; i = text.indexOf(".", i + 1)) {
    const q = qualified(text.slice(0, i), text.slice(i + 1));
    first ??= q;
    if (has(idOfQualified("table", q))) return q;
  }
  return first ?? idPart(text);
}

export const configTableId = (text: string, has: (id: string) => boolean = () => false) =>
  idOfQualified("table", configTable(text, has));
export const configColumnId = (text: string, column: string) =>
  idOfQualified("column", `${configTable(text, () => false)}.${idPart(column)}`);
