import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createBranch } from "../src/branches/create.ts";
import type { BoughError } from "../src/core/errors.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { query } from "./helpers/sql.ts";
import { supabase } from "./helpers/supabase.ts";

// The whole platform through one real server: auth issues the tokens, the data API
// runs the requests as their Postgres roles, RLS written Supabase-style decides.
const P = "e2e";
const s = platformServer(P);
const { urlOf, keysOf, client } = s;

/** A signed-in supabase-js client on a branch (signs the user up first when asked). */
async function signedIn(branch: string, email: string, o: { signUp?: boolean } = {}) {
  const sb = await client(branch);
  const r = o.signUp
    ? await sb.auth.signUp({ email, password: "correct horse" })
    : await sb.auth.signInWithPassword({ email, password: "correct horse" });
  assert.equal(r.error, null);
  return { sb, token: String(r.data.session?.access_token), id: String(r.data.user?.id) };
}

before(async () => {
  const mainUrl = await s.start();
  await query(
    mainUrl,
    `CREATE TABLE public.notes (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       user_id uuid NOT NULL DEFAULT auth.uid(),
       body text NOT NULL);
     ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
     CREATE POLICY "own notes" ON public.notes TO authenticated
       USING (auth.uid() = user_id) WITH CHECK (auth.uid() = user_id);`,
  );
});
after(() => s.stop());

test("RLS Supabase-style: a user sees only their rows, anon none, the secret key all", async () => {
  const ann = await signedIn("main", "ann@example.com", { signUp: true });
  const bob = await signedIn("main", "bob@example.com", { signUp: true });
  assert.equal((await ann.sb.from("notes").insert({ body: "ann's" })).error, null);
  assert.equal((await bob.sb.from("notes").insert({ body: "bob's" })).error, null);
  // WITH CHECK: nobody writes rows in another user's name.
  const forged = await ann.sb.from("notes").insert({ body: "forged", user_id: bob.id });
  assert.equal(forged.error?.code, "42501");

  const mine = await ann.sb.from("notes").select("body, user_id");
  assert.deepEqual(mine.data, [{ body: "ann's", user_id: ann.id }]);
  const anon = await (await client("main")).from("notes").select("*");
  assert.deepEqual(anon.data, []);
  const all = await (await client("main", "secretKey"))
    .from("notes")
    .select("body", { count: "exact" })
    .order("body");
  assert.deepEqual(all.data, [{ body: "ann's" }, { body: "bob's" }]);
  assert.equal(all.count, 2);
});

test("tokens and keys are branch-scoped on the data API too", async () => {
  const ann = await signedIn("main", "ann@example.com");
  await createBranch(s.t.ctx, { project: P, name: "feature", switchTo: false });
  await createBranch(s.t.ctx, { project: P, name: "sibling", switchTo: false });

  // A parent session keeps working on a new branch, over the branch's own rows.
  const onBranch = supabase(urlOf("feature"), (await keysOf("feature")).publishableKey);
  await onBranch.auth.setSession({ access_token: ann.token, refresh_token: "unused" });
  const seen = await onBranch.from("notes").select("body");
  assert.deepEqual(seen.data, [{ body: "ann's" }]);
  assert.equal((await onBranch.from("notes").insert({ body: "branch only" })).error, null);
  const parentRows = await (await client("main", "secretKey")).from("notes").select("body");
  assert.equal(
    parentRows.data?.some((r) => r.body === "branch only"),
    false,
  );

  // A token issued on the branch is refused on its parent and on a sibling.
  const carl = await signedIn("feature", "carl@example.com", { signUp: true });
  for (const other of ["main", "sibling"]) {
    const res = await fetch(`${urlOf(other)}/rest/v1/notes?select=body`, {
      headers: {
        apikey: (await keysOf(other)).publishableKey,
        authorization: `Bearer ${carl.token}`,
      },
    });
    assert.equal(res.status, 401, `a feature token on ${other}`);
    await res.body?.cancel();
  }
  // The branch's secret key is refused on the parent.
  const res = await fetch(`${urlOf("main")}/rest/v1/notes`, {
    headers: { apikey: (await keysOf("feature")).secretKey },
  });
  assert.equal(res.status, 401);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(typeof body.message === "string" || typeof body.msg === "string", true);
});

test("exposed schemas are configurable (PostgREST's db-schemas); system schemas never", async () => {
  const mainUrl = s.t.url(P, "main");
  await query(
    mainUrl,
    `CREATE SCHEMA api;
     CREATE TABLE api.items (id int PRIMARY KEY, name text);
     INSERT INTO api.items VALUES (1, 'one');
     GRANT USAGE ON SCHEMA api TO service_role;
     GRANT SELECT ON api.items TO service_role;`,
  );
  assert.throws(
    () => buildApp(s.t.ctx, { restSchemas: ["public", "auth"] }),
    (e: BoughError) => e.code === "INVALID_INPUT" && /auth/.test(e.message),
  );
  const app = buildApp(s.t.ctx, { restSchemas: ["api", "public"] });
  try {
    const { secretKey } = await keysOf("main");
    const get = (path: string, headers: Record<string, string> = {}) =>
      app.inject({
        url: `/p/${P}/b/main/rest/v1/${path}`,
        headers: { apikey: secretKey, ...headers },
      });
    // The first exposed schema is the default profile.
    assert.deepEqual((await get("items?select=name")).json(), [{ name: "one" }]);
    const other = await get("notes?select=body", { "accept-profile": "public" });
    assert.equal(other.statusCode, 200);
    const system = await get("users", { "accept-profile": "auth" });
    assert.equal(system.statusCode, 406);
  } finally {
    await app.close();
  }
});
