import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ScratchCluster, startScratchCluster } from "../../test/helpers/scratch-cluster.ts";
import { withClient } from "../branches/sql.ts";
import { poolBranchDb } from "./branch-db.ts";
import { ensureRequestRoles } from "./roles.ts";

let cluster: ScratchCluster;
before(async () => {
  cluster = await startScratchCluster();
  await withClient(cluster.url, async (c) => {
    await ensureRequestRoles(c);
    await ensureRequestRoles(c); // idempotent
    await c.query(`CREATE TABLE public.notes (id int PRIMARY KEY, user_id uuid, body text);
      ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
      CREATE POLICY own ON public.notes TO authenticated USING (auth.uid() = user_id);
      INSERT INTO public.notes VALUES
        (1, '00000000-0000-0000-0000-000000000001', 'a'),
        (2, '00000000-0000-0000-0000-000000000002', 'b');`);
  });
});
after(() => cluster.stop());

test("requests run as their role with claims; RLS decides; the service role sees all", async () => {
  const db = poolBranchDb(cluster.url);
  try {
    const sub = "00000000-0000-0000-0000-000000000001";
    const mine = await db.asRequest({ role: "authenticated", claims: { sub } }, (c) =>
      c.query("SELECT id, auth.uid()::text AS uid, auth.role() AS role, current_user FROM notes"),
    );
    assert.deepEqual(mine.rows, [
      { id: 1, uid: sub, role: "authenticated", current_user: "authenticated" },
    ]);
    const anon = await db.asRequest({ role: "anon", claims: {} }, (c) =>
      c.query("SELECT * FROM notes"),
    );
    assert.equal(anon.rowCount, 0);
    const all = await db.asRequest({ role: "service_role", claims: {} }, (c) =>
      c.query("SELECT id FROM notes ORDER BY id"),
    );
    assert.deepEqual(
      all.rows.map((r) => r.id),
      [1, 2],
    );
    // Nothing of a request outlives its transaction.
    const after = await db.asService((c) =>
      c.query("SELECT current_user, current_setting('request.jwt.claims', true) AS claims"),
    );
    assert.equal(after.rows[0].current_user, "postgres");
    assert.ok(!after.rows[0].claims);
    await assert.rejects(
      db.asRequest({ role: "postgres" as never, claims: {} }, async () => {}),
      /unknown request role/,
    );
  } finally {
    await db.end();
  }
});
