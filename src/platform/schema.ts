import type pg from "pg";
import { ensureAuthSchema } from "./auth/schema.ts";
import { DDL_LOG_PRESENT, ensureDdlLog } from "./ddl-log/schema.ts";
import { ensureEmailSchema } from "./email/schema.ts";
import { ensureFunctionsSchema } from "./functions/schema.ts";
import { ensureMaskSchema } from "./mask/store.ts";
import { ensureRealtimeSchema, REALTIME_SCHEMA_PRESENT } from "./realtime/schema.ts";
import { ensureRequestRoles } from "./roles.ts";
import { ensureSchedulesSchema } from "./schedules/schema.ts";
import { ensureSecretsSchema } from "./secrets/schema.ts";
import { ensureStorageSchema } from "./storage/schema.ts";

/**
 * Everything the platform services keep in a branch's database: Supabase's request roles
 * and helpers, then each service's schema. Idempotent: run on a project's main when it is
 * created (branches inherit it by cloning) and on branches that predate a service.
 */
export async function ensurePlatformSchema(client: pg.ClientBase): Promise<void> {
  await ensureRequestRoles(client);
  await ensureAuthSchema(client);
  await ensureEmailSchema(client);
  await ensureStorageSchema(client);
  await ensureFunctionsSchema(client);
  await ensureRealtimeSchema(client);
  await ensureSecretsSchema(client);
  await ensureSchedulesSchema(client);
  await ensureMaskSchema(client);
  // Last: the platform's own set-up above is not the branch's DDL history.
  await ensureDdlLog(client);
}

/** Whether a branch's database already has the current platform schema (cheap check). */
export async function hasPlatformSchema(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(
    `SELECT to_regclass('auth.oauth_providers') IS NOT NULL AND to_regclass('email.outbox') IS NOT NULL
       AND to_regclass('storage.objects') IS NOT NULL
       AND to_regclass('functions.invocations') IS NOT NULL AND ${REALTIME_SCHEMA_PRESENT}
       AND to_regclass('secrets.secrets') IS NOT NULL AND to_regclass('email.smtp') IS NOT NULL
       AND to_regclass('schedules.runs') IS NOT NULL AND to_regclass('bough.mask_rules') IS NOT NULL
       AND ${DDL_LOG_PRESENT} AS ok`,
  );
  return r.rows[0].ok;
}
