import type pg from "pg";
import { grantId, roleSpec } from "../catalog/ids.ts";
import type { GrantObject, RoleSpec } from "../catalog/snapshot.ts";
import { type IntrospectContext, sortedUnique, USER_OID } from "./context.ts";

type TargetKind = GrantObject["targetKind"];

interface Row {
  catalog: string;
  oid: number;
  sub: number;
  /** acldefault's object type letter: r relation, s sequence, c column, f function, n schema, T type. */
  acl_kind: string;
  is_owner: boolean;
  /** Role name; null for grantee 0, the PUBLIC pseudo-role (a role may be named "PUBLIC"). */
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

const TARGET_KIND: Record<string, TargetKind> = {
  r: "table",
  s: "sequence",
  c: "column",
  f: "function",
  n: "schema",
  T: "type",
};

/*
 * Privileges as Postgres applies them. A NULL acl means the built-in default
 * (acldefault): for relations and schemas that is the owner's privileges alone, which
 * are implicit and not listed, so those rows are skipped in SQL; for functions and types
 * it also grants EXECUTE / USAGE to PUBLIC, so it is exploded. Otherwise "REVOKE EXECUTE
 * ... FROM PUBLIC" would show up as a new grant to the owner and the revoke would be lost.
 * Only user objects are read; the registry decides which are listed (extension members
 * and objects of excluded schemas are not registered).
 */
const SQL = `
WITH objects AS (
  SELECT 'pg_class' AS catalog, c.oid, 0 AS sub, c.relowner AS owner,
         CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END AS acl_kind, c.relacl AS acl
    FROM pg_class c
   WHERE c.oid >= ${USER_OID} AND c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  UNION ALL
  SELECT 'pg_class', a.attrelid, a.attnum, c.relowner, 'c', a.attacl
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE a.attrelid >= ${USER_OID} AND a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'pg_proc', p.oid, 0, p.proowner, 'f', coalesce(p.proacl, acldefault('f', p.proowner))
    FROM pg_proc p WHERE p.oid >= ${USER_OID}
  UNION ALL
  SELECT 'pg_namespace', n.oid, 0, n.nspowner, 'n', n.nspacl
    FROM pg_namespace n WHERE n.nspacl IS NOT NULL
  UNION ALL
  SELECT 'pg_type', t.oid, 0, t.typowner, 'T', coalesce(t.typacl, acldefault('T', t.typowner))
    FROM pg_type t LEFT JOIN pg_class tc ON tc.oid = t.typrelid
   WHERE t.oid >= ${USER_OID} AND (t.typtype IN ('e', 'd', 'r') OR tc.relkind = 'c')
)
SELECT o.catalog, o.oid, o.sub, o.acl_kind, x.grantee = o.owner AS is_owner,
       CASE WHEN x.grantee <> 0 THEN pg_get_userbyid(x.grantee)::text END AS grantee,
       x.privilege_type AS privilege, x.is_grantable AS grantable
  FROM objects o, aclexplode(o.acl) x`;

/** The owner's built-in privileges per object type, e.g. r → arwdDxt(m): an owner entry equal to them is implicit. */
async function ownerDefaults(client: pg.ClientBase): Promise<Map<string, string>> {
  const { rows } = await client.query<{ acl_kind: string; privileges: string[] }>(
    `SELECT k AS acl_kind, array(SELECT x.privilege_type FROM aclexplode(acldefault(k::"char", 10)) x
                                  WHERE x.grantee = 10 ORDER BY 1) AS privileges
       FROM unnest(array['r', 's', 'f', 'n', 'T']) k`,
  );
  return new Map(rows.map((r) => [r.acl_kind, sortedUnique(r.privileges).join(",")]));
}

/**
 * One grant object per (object, grantee): privileges from every grantor, "*" marking WITH
 * GRANT OPTION. The owner's own entry is left out while it equals the owner's default.
 */
export async function readGrants(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<GrantObject[]> {
  const defaults = await ownerDefaults(client);
  const { rows } = await client.query<Row>(SQL);
  const groups = new Map<
    string,
    { target: string; kind: string; isOwner: boolean; grantee: RoleSpec; privs: Set<string> }
  >();
  for (const r of rows) {
    const target = ctx.ids.target(r.catalog, r.oid, r.sub);
    if (!target) continue;
    const grantee = roleSpec(r.grantee);
    const id = grantId(target, grantee);
    let g = groups.get(id);
    if (!g) {
      g = { target, kind: r.acl_kind, isOwner: r.is_owner, grantee, privs: new Set() };
      groups.set(id, g);
    }
    g.privs.add(r.grantable ? `${r.privilege}*` : r.privilege);
  }
  const out: GrantObject[] = [];
  for (const [id, g] of groups) {
    const privileges = sortedUnique(withoutImpliedPlain(g.privs));
    if (g.isOwner && privileges.join(",") === defaults.get(g.kind)) continue;
    out.push({
      kind: "grant",
      id,
      deps: [g.target],
      targetKind: TARGET_KIND[g.kind],
      target: g.target,
      grantee: g.grantee,
      privileges,
    });
  }
  return out;
}

/** "SELECT" from one grantor and "SELECT*" from another: the grant option wins. */
export function withoutImpliedPlain(privs: Set<string>): string[] {
  return [...privs].filter((p) => p.endsWith("*") || !privs.has(`${p}*`));
}
