import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import { type DbObject, SNAPSHOT_VERSION, type Snapshot } from "../catalog/snapshot.ts";
import { readCollations } from "./collations.ts";
import { readColumns } from "./columns.ts";
import { readComments } from "./comments.ts";
import { readConstraints } from "./constraints.ts";
import { createContext, type IntrospectContext } from "./context.ts";
import { readDataLayer } from "./data.ts";
import { addCatalogDeps } from "./deps.ts";
import { readEventTriggers } from "./event-triggers.ts";
import { readExtensions } from "./extensions.ts";
import { readFunctions } from "./functions.ts";
import { readGrants } from "./grants.ts";
import { readIndexes } from "./indexes.ts";
import { readPolicies } from "./policies.ts";
import { readPublicationSchemas, readPublications, readPublicationTables } from "./publications.ts";
import { readSchemas } from "./schemas.ts";
import { readSequences } from "./sequences.ts";
import { readTables } from "./tables.ts";
import { readTriggers } from "./triggers.ts";
import { readTypes } from "./types.ts";
import { readViews } from "./views.ts";

export interface IntrospectOptions {
  /** Schemas to leave out besides the catalogs, pg_toast/pg_temp and bough's own `bough`. */
  excludeSchemas?: string[];
}

type Reader = (client: pg.ClientBase, ctx: IntrospectContext) => Promise<DbObject[]>;

/**
 * Readers in order: grants and comments come last because they find their targets in
 * the registry the others fill (so they list exactly what the others listed).
 */
const READERS: Reader[] = [
  readSchemas,
  readExtensions,
  readCollations,
  readTypes,
  readSequences,
  readTables,
  readColumns,
  readConstraints,
  readIndexes,
  readViews,
  readFunctions,
  readTriggers,
  readEventTriggers,
  readPublications,
  readPublicationTables,
  readPublicationSchemas,
  readPolicies,
  readGrants,
  readComments,
];

/**
 * Reads a live database into a Snapshot: one query per catalog kind, all in one
 * REPEATABLE READ snapshot (or a savepoint of the caller's transaction, so a plan can be
 * checked before it commits), with search_path empty so every printed name that is not
 * in pg_catalog is schema-qualified, the same way whatever the session had set.
 *
 * @example const snap = await introspect(client, { excludeSchemas: ["scratch"] });
 */
export async function introspect(
  client: pg.ClientBase,
  o: IntrospectOptions = {},
): Promise<Snapshot> {
  return inSnapshot(client, async () => {
    const version = await client.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    const serverVersion = Number(version.rows[0].v);
    const ctx = createContext({ serverVersion, excludeSchemas: o.excludeSchemas });
    const byId = new Map<string, DbObject>();
    for (const read of READERS) {
      for (const obj of await read(client, ctx)) {
        if (byId.has(obj.id)) {
          throw new BoughError(
            "INTERNAL",
            `two catalog objects have the identity ${obj.id}`,
            "report this as a bug",
          );
        }
        byId.set(obj.id, obj);
      }
    }
    await addCatalogDeps(client, ctx, byId);
    const { policies, data } = await readDataLayer(client);
    const objects: Record<string, DbObject> = {};
    for (const id of [...byId.keys()].sort()) objects[id] = byId.get(id) as DbObject;
    return { version: SNAPSHOT_VERSION, serverVersion, objects, policies, data };
  });
}

/** Runs `work` in one REPEATABLE READ snapshot (or a savepoint of the caller's transaction), search_path empty. */
export async function inSnapshot<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  const status = client.getTransactionStatus?.();
  if (status === "E") {
    throw new BoughError(
      "INVALID_INPUT",
      "cannot introspect: the connection's transaction has failed",
      "roll the transaction back first",
    );
  }
  const nested = status === "T";
  await client.query(
    nested ? "SAVEPOINT bough_introspect" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
  );
  try {
    await client.query("SET LOCAL search_path = ''");
    const result = await work();
    await client.query(nested ? "ROLLBACK TO SAVEPOINT bough_introspect" : "COMMIT");
    if (nested) await client.query("RELEASE SAVEPOINT bough_introspect");
    return result;
  } catch (err) {
    await client
      .query(nested ? "ROLLBACK TO SAVEPOINT bough_introspect" : "ROLLBACK")
      .catch(() => {});
    if (nested) await client.query("RELEASE SAVEPOINT bough_introspect").catch(() => {});
    throw err;
  }
}
