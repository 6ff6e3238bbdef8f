import { ensureBookkeeping } from "../merge/bookkeeping.ts";
import { withClient } from "./sql.ts";

// Tables whose rows are platform config (upsert policy) keep their rows; bough's own too.
const EMPTY_USER_TABLES = `
DO $$
DECLARE targets text;
BEGIN
  SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ')
    INTO targets
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p')
     AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'bough')
     AND n.nspname NOT LIKE 'pg\\_%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
     AND NOT EXISTS (
       SELECT 1 FROM bough.table_policies p
        WHERE p.policy = 'upsert' AND to_regclass(p.table_name) = c.oid);
  IF targets IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || targets;
  END IF;
END $$;`;

/** Schema-only mode: every user table emptied, schema and platform config kept. */
export async function emptyUserTables(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await ensureBookkeeping(client);
    await client.query(EMPTY_USER_TABLES);
    await client.query("CHECKPOINT");
  });
}
