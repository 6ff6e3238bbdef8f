import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import type { PlatformRequest } from "../request.ts";
import type { SchemaCache } from "./schema-cache.ts";
import { loadSchemaCache } from "./schema-load.ts";
import { ensureRestSchemaVersion, readSchemaToken } from "./schema-version.ts";

/** Schemas the data API never exposes: catalogs and the platform's own state. */
export const SYSTEM_SCHEMAS = [
  "information_schema",
  "bough",
  "auth",
  "storage",
  "functions",
  "realtime",
  "schedules",
  "email",
  "secrets",
];

const isSystem = (s: string) => s.startsWith("pg_") || SYSTEM_SCHEMAS.includes(s);

/** Refuses an empty list or a system schema (PostgREST's `db-schemas`, checked up front). */
export function checkExposedSchemas(schemas: readonly string[]): void {
  if (schemas.length === 0 || schemas.some((s) => s === "")) {
    throw new BoughError(
      "INVALID_INPUT",
      "the data API needs at least one exposed schema",
      "pass schema names, e.g. --db-schemas public,api",
    );
  }
  const system = schemas.filter(isSystem);
  if (system.length > 0) {
    throw new BoughError(
      "INVALID_INPUT",
      `system schemas cannot be exposed through the data API: ${system.join(", ")}`,
      "expose your own schemas only; platform state is reached through its own API",
    );
  }
}

export interface RestService {
  schemas: readonly string[];
  /**
   * Runs fn in the request's transaction (as its role) with a schema cache that matches
   * the branch's schema at that moment: the branch's schema token is read first and the
   * cache reloaded, in the same transaction, when it moved.
   */
  run<T>(pr: PlatformRequest, fn: (c: pg.ClientBase, cache: SchemaCache) => Promise<T>): Promise<T>;
}

/**
 * One service for every branch the server serves: a schema cache per branch, built on
 * first use and rebuilt after DDL.
 *
 * @example const rest = createRestService({ schemas: ["public", "api"] })
 */
export function createRestService(o: { schemas?: string[] } = {}): RestService {
  const schemas = o.schemas ?? ["public"];
  checkExposedSchemas(schemas);
  const caches = new Map<string, SchemaCache>();
  const installed = new Map<string, Promise<void>>();
  const install = (key: string, pr: PlatformRequest) => {
    let done = installed.get(key);
    if (!done) {
      done = pr.db.asService(ensureRestSchemaVersion);
      done.catch(() => installed.delete(key));
      installed.set(key, done);
    }
    return done;
  };
  return {
    schemas,
    async run(pr, fn) {
      const key = `${pr.project.id}:${pr.branch.id}`;
      await install(key, pr);
      return pr.db.asRequest(pr.identity, async (c) => {
        const token = await readSchemaToken(c);
        let cache = caches.get(key);
        if (!cache || cache.token !== token) {
          cache = await loadSchemaCache(c, { schemas, token });
          caches.set(key, cache);
        }
        return fn(c, cache);
      });
    },
  };
}
