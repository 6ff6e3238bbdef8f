import type pg from "pg";
import { defaultPrivilegeId, roleSpec, schemaId } from "../catalog/ids.ts";
import type {
  DefaultPrivilegeObject,
  DefaultPrivilegeObjects,
  RoleSpec,
} from "../catalog/snapshot.ts";
import { type IntrospectContext, sortedUnique, userSchema } from "./context.ts";
import { withoutImpliedPlain } from "./grants.ts";

/** pg_default_acl.defaclobjtype → the word of ALTER DEFAULT PRIVILEGES ... ON. */
export const DEFAULT_ACL_OBJECTS: Record<string, DefaultPrivilegeObjects> = {
  r: "tables",
  S: "sequences",
  f: "functions",
  T: "types",
  n: "schemas",
  L: "large objects",
};

interface Row {
  role: string;
  schema: string | null;
  objtype: string;
  /** "acl": the entry's privileges; "builtin": what the grantee has without an entry. */
  side: "acl" | "builtin";
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

/*
 * Every entry's ACL and, for a global entry (which replaces them), the built-in defaults
 * (acldefault, whose letter for sequences is 's'; 'S' there is a foreign server), both
 * exploded per grantee. A schema entry only adds to the global ones: its built-in is empty.
 */
const SQL = `
WITH entries AS (
  SELECT pg_get_userbyid(d.defaclrole)::text AS role, n.nspname AS schema, d.defaclobjtype::text AS objtype,
         d.defaclacl AS acl,
         CASE WHEN d.defaclnamespace = 0
              THEN acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)
              END AS builtin
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
   WHERE d.defaclnamespace = 0 OR ${userSchema("n")}
)
SELECT e.role, e.schema, e.objtype, s.side,
       CASE WHEN x.grantee <> 0 THEN pg_get_userbyid(x.grantee)::text END AS grantee,
       x.privilege_type AS privilege, x.is_grantable AS grantable
  FROM entries e, LATERAL (VALUES ('acl', e.acl), ('builtin', e.builtin)) s(side, acl), aclexplode(s.acl) x`;

/**
 * ALTER DEFAULT PRIVILEGES, one object per (role, schema or every schema, object kind,
 * grantee) whose privileges differ from the built-in ones, so each grantee merges on its
 * own, as grants do.
 */
export async function readDefaultPrivileges(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<DefaultPrivilegeObject[]> {
  const { rows } = await client.query<Row>(SQL, [ctx.excluded]);
  const groups = new Map<
    string,
    { row: Row; grantee: RoleSpec; acl: Set<string>; builtin: Set<string> }
  >();
  for (const r of rows) {
    const objects = DEFAULT_ACL_OBJECTS[r.objtype];
    if (!objects) continue;
    const grantee = roleSpec(r.grantee);
    const id = defaultPrivilegeId(r.role, r.schema, objects, grantee);
    let g = groups.get(id);
    if (!g) {
      g = { row: r, grantee, acl: new Set(), builtin: new Set() };
      groups.set(id, g);
    }
    g[r.side].add(r.grantable ? `${r.privilege}*` : r.privilege);
  }
  const out: DefaultPrivilegeObject[] = [];
  for (const [id, g] of groups) {
    const privileges = sortedUnique(withoutImpliedPlain(g.acl));
    const builtin = sortedUnique(g.builtin);
    if (privileges.join(",") === builtin.join(",")) continue;
    const { role, schema, objtype } = g.row;
    out.push({
      kind: "default_privilege",
      id,
      deps: schema === null ? [] : [schemaId(schema)],
      role,
      schema,
      objects: DEFAULT_ACL_OBJECTS[objtype],
      grantee: g.grantee,
      privileges,
      builtin,
    });
  }
  return out;
}
