import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createBranch } from "../src/branches/create.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { rows } from "./helpers/sql.ts";
import { supabase } from "./helpers/supabase.ts";

// One project for the whole file (clusters are expensive): main, and branches of it.
const P = "authp";
const s = platformServer(P);
const { urlOf, keysOf, client } = s;

/** GET /auth/v1/user on a branch with its publishable key and the given access token. */
async function getUserStatus(branch: string, accessToken: string): Promise<number> {
  const res = await fetch(`${urlOf(branch)}/auth/v1/user`, {
    headers: {
      apikey: (await keysOf(branch)).publishableKey,
      authorization: `Bearer ${accessToken}`,
    },
  });
  await res.body?.cancel();
  return res.status;
}

before(() => s.start());
after(() => s.stop());

describe("auth (GoTrue-compatible) through the real supabase-js", () => {
  test("sign up, sign in, get user, refresh with rotation and reuse detection, sign out", async () => {
    const sb = await client("main");
    const up = await sb.auth.signUp({
      email: "Ann@Example.com",
      password: "correct horse",
      options: { data: { name: "Ann" } },
    });
    assert.equal(up.error, null);
    assert.equal(up.data.user?.email, "ann@example.com");
    assert.deepEqual(up.data.user?.user_metadata, { name: "Ann" });
    assert.ok(up.data.session?.access_token);

    const bad = await sb.auth.signInWithPassword({ email: "ann@example.com", password: "wrong" });
    assert.equal(bad.error?.status, 400);
    assert.equal(bad.error?.code, "invalid_credentials");

    const signIn = await sb.auth.signInWithPassword({
      email: "ann@example.com",
      password: "correct horse",
    });
    assert.equal(signIn.error, null);
    const first = signIn.data.session;
    assert.ok(first);
    const me = await sb.auth.getUser();
    assert.equal(me.data.user?.id, up.data.user?.id);

    const refreshed = await sb.auth.refreshSession();
    assert.equal(refreshed.error, null);
    assert.notEqual(refreshed.data.session?.refresh_token, first.refresh_token);

    // Presenting the spent token again revokes the session: the newer token dies with it.
    const thief = await client("main");
    const reuse = await thief.auth.refreshSession({ refresh_token: first.refresh_token });
    assert.equal(reuse.error?.code, "refresh_token_already_used");
    const after = await thief.auth.refreshSession({
      refresh_token: String(refreshed.data.session?.refresh_token),
    });
    assert.equal(after.error?.code, "refresh_token_not_found");

    const again = await sb.auth.signInWithPassword({
      email: "ann@example.com",
      password: "correct horse",
    });
    const token = String(again.data.session?.access_token);
    assert.equal(await getUserStatus("main", token), 200);
    assert.equal((await sb.auth.signOut()).error, null);
    assert.equal(await getUserStatus("main", token), 403, "its session is gone");

    const dup = await sb.auth.signUp({ email: "ann@example.com", password: "another one" });
    assert.equal(dup.error?.code, "user_already_exists");
    const weak = await sb.auth.signUp({ email: "weak@example.com", password: "123" });
    assert.equal(weak.error?.code, "weak_password");
    assert.equal(weak.error?.status, 422);
  });

  test("password recovery and magic link write mail to the outbox; its token signs in once", async () => {
    const sb = await client("main");
    await sb.auth.signUp({ email: "rob@example.com", password: "first password" });
    assert.equal((await sb.auth.resetPasswordForEmail("rob@example.com")).error, null);
    assert.equal(
      (await sb.auth.resetPasswordForEmail("nobody@example.com")).error,
      null,
      "no leak",
    );
    const mail = await rows<{ to_address: string; template: string; body: string }>(
      s.t.url(P, "main"),
      "SELECT to_address, template, body FROM email.outbox ORDER BY id",
    );
    assert.deepEqual(
      mail.map((m) => [m.to_address, m.template]),
      [["rob@example.com", "recovery"]],
    );
    const link = new URL(/https?:\/\/\S+/.exec(mail[0].body)?.[0] ?? "");
    assert.equal(link.pathname, `/p/${P}/b/main/auth/v1/verify`);
    const tokenHash = String(link.searchParams.get("token"));
    const v = await sb.auth.verifyOtp({ token_hash: tokenHash, type: "recovery" });
    assert.equal(v.error, null);
    assert.equal(v.data.user?.email, "rob@example.com");
    assert.equal((await sb.auth.updateUser({ password: "second password" })).error, null);
    const spent = await (await client("main")).auth.verifyOtp({
      token_hash: tokenHash,
      type: "recovery",
    });
    assert.equal(spent.error?.code, "otp_expired");
    const signIn = await (await client("main")).auth.signInWithPassword({
      email: "rob@example.com",
      password: "second password",
    });
    assert.equal(signIn.error, null);

    const otp = await sb.auth.signInWithOtp({ email: "newbie@example.com" });
    assert.equal(otp.error, null);
    const [m] = await rows<{ body: string }>(
      s.t.url(P, "main"),
      "SELECT body FROM email.outbox WHERE to_address = 'newbie@example.com'",
    );
    const code = String(/code: (\d{6})/.exec(m.body)?.[1]);
    const wrong = await sb.auth.verifyOtp({
      email: "newbie@example.com",
      token: code === "000000" ? "111111" : "000000",
      type: "email",
    });
    assert.equal(wrong.error?.status, 403);
    const ok = await sb.auth.verifyOtp({ email: "newbie@example.com", token: code, type: "email" });
    assert.equal(ok.error, null);
    assert.ok(ok.data.user?.email_confirmed_at);
  });

  test("admin API with the secret key: create (email_confirm), list, delete; refused with the publishable key", async () => {
    const admin = await client("main", "secretKey");
    const created = await admin.auth.admin.createUser({
      email: "cat@example.com",
      password: "cat password",
      email_confirm: true,
    });
    assert.equal(created.error, null);
    const id = String(created.data.user?.id);
    const list = await admin.auth.admin.listUsers({ page: 1, perPage: 2 });
    assert.equal(list.error, null);
    assert.equal(list.data.users.length, 2);
    const total = (
      await rows<{ n: number }>(s.t.url(P, "main"), "SELECT count(*)::int AS n FROM auth.users")
    )[0].n;
    assert.equal((list.data as unknown as { total: number }).total, total);
    const signIn = await (await client("main")).auth.signInWithPassword({
      email: "cat@example.com",
      password: "cat password",
    });
    assert.equal(signIn.error, null);
    assert.equal((await admin.auth.admin.deleteUser(id)).error, null);
    const gone = await (await client("main")).auth.signInWithPassword({
      email: "cat@example.com",
      password: "cat password",
    });
    assert.equal(gone.error?.code, "invalid_credentials");
    const anon = await (await client("main")).auth.admin.listUsers();
    assert.equal(anon.error?.status, 403);
    assert.equal(anon.error?.code, "not_admin");
  });

  test("tokens are branch-scoped: a parent's session works on a new branch, never the other way", async () => {
    const main = await client("main");
    await main.auth.signUp({ email: "parent@example.com", password: "parent password" });
    const parentToken = String(
      (
        await main.auth.signInWithPassword({
          email: "parent@example.com",
          password: "parent password",
        })
      ).data.session?.access_token,
    );
    await s.t.branch(P, "feat");
    await s.t.branch(P, "other");
    assert.equal(await getUserStatus("feat", parentToken), 200, "parent session on the child");

    const feat = await client("feat");
    const signUp = await feat.auth.signUp({
      email: "child@example.com",
      password: "child password",
    });
    assert.equal(signUp.error, null);
    const childToken = String(signUp.data.session?.access_token);
    assert.equal(await getUserStatus("feat", childToken), 200);
    assert.equal(
      await getUserStatus("main", childToken),
      401,
      "branch token refused on the parent",
    );
    assert.equal(
      await getUserStatus("other", childToken),
      401,
      "branch token refused on a sibling",
    );

    const onMain = await main.auth.signInWithPassword({
      email: "child@example.com",
      password: "child password",
    });
    assert.equal(
      onMain.error?.code,
      "invalid_credentials",
      "a branch's user does not exist on the parent",
    );

    // A branch key is refused on the parent (and the parent's on the branch).
    const featKey = await client("feat");
    const cross = supabase(urlOf("main"), (await keysOf("feat")).publishableKey);
    const r = await cross.auth.signInWithPassword({
      email: "parent@example.com",
      password: "parent password",
    });
    assert.equal(r.error?.status, 401);
    assert.equal(
      (
        await featKey.auth.signInWithPassword({
          email: "parent@example.com",
          password: "parent password",
        })
      ).error,
      null,
    );
  });

  test("merging a branch that changed an auth setting updates exactly that row and leaves users alone", async () => {
    const feat = await client("feat", "secretKey");
    const put = await fetch(`${urlOf("feat")}/auth/v1/admin/config`, {
      method: "PUT",
      headers: { apikey: (await keysOf("feat")).secretKey, "content-type": "application/json" },
      body: JSON.stringify({ site_url: "https://app.example.com", password_min_length: 10 }),
    });
    assert.equal(put.status, 200);
    const provider = await fetch(`${urlOf("feat")}/auth/v1/admin/providers/github`, {
      method: "PUT",
      headers: { apikey: (await keysOf("feat")).secretKey, "content-type": "application/json" },
      body: JSON.stringify({
        enabled: true,
        client_id: "gh-client",
        client_secret: "gh-very-secret",
      }),
    });
    assert.deepEqual(await provider.json(), {
      provider: "github",
      enabled: true,
      client_id: "gh-client",
      redirect_uri: null,
      has_client_secret: true,
    });
    const [stored] = await rows<{ s: string }>(
      s.t.url(P, "feat"),
      "SELECT client_secret_encrypted AS s FROM auth.oauth_providers",
    );
    assert.ok(!stored.s.includes("gh-very-secret"), "stored encrypted");
    await feat.auth.admin.createUser({
      email: "merge@example.com",
      password: "long enough pw",
      email_confirm: true,
    });
    const mainUrl = s.t.url(P, "main");
    const users = (u: string) =>
      rows<{ email: string }>(u, "SELECT email FROM auth.users ORDER BY email");
    const config = (u: string) =>
      rows<{ key: string; value: unknown }>(u, "SELECT key, value FROM auth.config ORDER BY key");
    const usersBefore = await users(mainUrl);
    const configBefore = await config(mainUrl);
    const report = await mergeBranch(s.t.ctx, { project: P, name: "feat" });
    assert.equal(report.merged, true, report.preview);
    assert.deepEqual(await users(mainUrl), usersBefore);
    const expected = configBefore.map((r) =>
      r.key === "site_url"
        ? { key: r.key, value: "https://app.example.com" }
        : r.key === "password_min_length"
          ? { key: r.key, value: 10 }
          : r,
    );
    assert.deepEqual(await config(mainUrl), expected);
    assert.deepEqual(
      await rows(
        mainUrl,
        "SELECT provider, enabled, client_id, client_secret_encrypted FROM auth.oauth_providers",
      ),
      [
        {
          provider: "github",
          enabled: true,
          client_id: "gh-client",
          client_secret_encrypted: null,
        },
      ],
      "the provider row merged, its secret did not",
    );
    const weak = await (await client("main")).auth.signUp({
      email: "short@example.com",
      password: "nine char",
    });
    assert.equal(weak.error?.code, "weak_password", "the merged policy is in force on main");
  });

  test("schema-only branches keep auth settings and have no users, sessions or mail", async () => {
    const made = await createBranch(s.t.ctx, {
      project: P,
      name: "shape",
      mode: "schema-only",
      switchTo: false,
    });
    const url = made.branch.connectionString;
    const counts = await rows<{ users: number; sessions: number; mail: number; config: number }>(
      url,
      `SELECT (SELECT count(*)::int FROM auth.users) AS users, (SELECT count(*)::int FROM auth.sessions) AS sessions,
              (SELECT count(*)::int FROM email.outbox) AS mail, (SELECT count(*)::int FROM auth.config) AS config`,
    );
    assert.deepEqual(counts, [{ users: 0, sessions: 0, mail: 0, config: 5 }]);
  });
});
