import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import { type DbObject, SNAPSHOT_VERSION, type Snapshot } from "../catalog/snapshot.ts";
import { readCollations } from "./collations.ts";
import { readColumns } from "./columns.ts";
import { readComments } from "./comments.ts";
import { readConstraints } from "./constraints.ts";
import { createContext, type IntrospectContext } from "./context.ts";
import { readDataLayer } from "./data.ts";
import { readDefaultPrivileges } from "./default-privileges.ts";
import { addCatalogDeps, readCatalogDeps } from "./deps.ts";
import { readEventTriggers } from "./event-triggers.ts";
import { readExtensions } from "./extensions.ts";
import { readFunctions } from "./functions.ts";
import { readGrants } from "./grants.ts";
import { readIndexes } from "./indexes.ts";
import { addOwners, readOwners } from "./owners.ts";
import { readPolicies } from "./policies.ts";
import { readPublicationSchemas, readPublications, readPublicationTables } from "./publications.ts";
import { readRules } from "./rules.ts";
import { readSchemas } from "./schemas.ts";
import { readSequences } from "./sequences.ts";
import { inSnapshot, type SnapshotOptions } from "./snapshot.ts";
import { readStatistics } from "./statistics.ts";
import { readTables } from "./tables.ts";
import { readTriggers } from "./triggers.ts";
import { readTypes } from "./types.ts";
import { readViews } from "./views.ts";

export interface IntrospectOptions extends SnapshotOptions {
  /** Schemas to leave out besides the catalogs, pg_toast/pg_temp and bough's own `bough`. */
  excludeSchemas?: string[];
}

type Reader = (client: pg.ClientBase, ctx: IntrospectContext) => Promise<DbObject[]>;

/** Readers that only fill the registry: their queries run side by side. */
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
  readRules,
  readStatistics,
  readEventTriggers,
  readPublications,
  readPublicationTables,
  readPublicationSchemas,
  readPolicies,
  readDefaultPrivileges,
];

/**
 * Grants and comments come after: they find their targets in the registry the others
 * fill (so they list exactly what the others listed).
 */
const ATTACHED_READERS: Reader[] = [readGrants, readComments];

/**
 * Reads a live database into a Snapshot: one query per catalog kind, all in one
 * REPEATABLE READ snapshot (or a savepoint of the caller's transaction, so a plan can be
 * checked before it commits), with search_path empty so every printed name that is not
 * in pg_catalog is schema-qualified, the same way whatever the session had set. Given
 * `connect`, the queries are spread over more connections reading the same snapshot;
 * objects are still collected in reader order, so the snapshot is the same.
 *
 * @example const snap = await introspect(client, { excludeSchemas: ["scratch"] });
 */
export async function introspect(
  client: pg.ClientBase,
  o: IntrospectOptions = {},
): Promise<Snapshot> {
  return inSnapshot(
    client,
    async (pool) => {
      const { serverVersion } = pool;
      const ctx = createContext({ serverVersion, excludeSchemas: o.excludeSchemas });
      const readAll = (readers: Reader[]) =>
        Promise.all(readers.map((read) => pool.run((c) => read(c, ctx))));
      const [found, layer] = await Promise.all([
        readAll(READERS),
        pool.run((c) => readDataLayer(c)),
      ]);
      const [attached, deps, owners] = await Promise.all([
        readAll(ATTACHED_READERS),
        pool.run((c) => readCatalogDeps(c)),
        pool.run((c) => readOwners(c)),
      ]);
      const byId = new Map<string, DbObject>();
      for (const obj of [...found, ...attached].flat()) {
        if (byId.has(obj.id)) {
          throw new BoughError(
            "INTERNAL",
            `two catalog objects have the identity ${obj.id}`,
            "report this as a bug",
          );
        }
        byId.set(obj.id, obj);
      }
      addCatalogDeps(ctx, deps, byId);
      addOwners(ctx, owners, byId);
      const objects: Record<string, DbObject> = {};
      for (const id of [...byId.keys()].sort()) objects[id] = byId.get(id) as DbObject;
      return {
        version: SNAPSHOT_VERSION,
        serverVersion,
        objects,
        policies: layer.policies,
        data: layer.data,
      };
    },
    o,
  );
}

export { inSnapshot } from "./snapshot.ts";
