import type pg from "pg";
import { commentId } from "../catalog/ids.ts";
import type { CommentObject } from "../catalog/snapshot.ts";
import { type IntrospectContext, USER_OID } from "./context.ts";

interface Row {
  catalog: string;
  oid: number;
  sub: number;
  text: string;
}

/**
 * COMMENT ON for every listed object. pg_description speaks in oids, so the target is
 * looked up in the registry (exact address, no aliases: a comment on a view's column or
 * a domain's constraint must not become the view's or the domain's comment).
 */
export async function readComments(
  client: pg.ClientBase,
  ctx: IntrospectContext,
): Promise<CommentObject[]> {
  const { rows } = await client.query<Row>(
    `SELECT d.classoid::regclass::text AS catalog, d.objoid AS oid, d.objsubid AS sub, d.description AS text
       FROM pg_description d
      WHERE d.objoid >= ${USER_OID} OR d.classoid = 'pg_namespace'::regclass`,
  );
  const out: CommentObject[] = [];
  for (const r of rows) {
    const target = ctx.ids.target(r.catalog, r.oid, r.sub);
    if (!target) continue;
    out.push({ kind: "comment", id: commentId(target), deps: [target], target, text: r.text });
  }
  return out;
}
