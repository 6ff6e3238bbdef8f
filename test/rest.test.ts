import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SupabaseClient } from "@supabase/supabase-js";
import type { FastifyInstance } from "fastify";
import { withClient } from "../src/branches/sql.ts";
import { poolBranchDb } from "../src/platform/branch-db.ts";
import { createRestService } from "../src/platform/rest/service.ts";
import { ensureRequestRoles } from "../src/platform/roles.ts";
import { startRestApp, TEST_KEYS, testClient, userToken } from "./helpers/rest-app.ts";
import { type ScratchCluster, startScratchCluster } from "./helpers/scratch-cluster.ts";
import { query, rows } from "./helpers/sql.ts";

const ALICE = "00000000-0000-0000-0000-00000000000a";
const BOB = "00000000-0000-0000-0000-00000000000b";

const SCHEMA = `
CREATE TABLE public.users (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.posts (
  id serial PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES public.users (id),
  title text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  meta jsonb,
  score int
);
CREATE TABLE public.comments (
  id serial PRIMARY KEY,
  post_id int NOT NULL REFERENCES public.posts (id) ON DELETE CASCADE,
  author_id uuid REFERENCES public.users (id),
  body text NOT NULL
);
CREATE TABLE public.countries (code text PRIMARY KEY, name text UNIQUE NOT NULL, population int);
CREATE TABLE public.notes (id serial PRIMARY KEY, user_id uuid NOT NULL DEFAULT auth.uid(), body text);
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON public.notes TO authenticated USING (auth.uid() = user_id) WITH CHECK (auth.uid() = user_id);
CREATE VIEW public.post_titles AS SELECT id, user_id, title FROM public.posts;
CREATE FUNCTION public.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE FUNCTION public.posts_of(uid uuid) RETURNS SETOF public.posts LANGUAGE sql STABLE
  AS 'SELECT * FROM public.posts WHERE user_id = uid ORDER BY id';
CREATE FUNCTION public.bump(code text) RETURNS void LANGUAGE sql
  AS 'UPDATE public.countries SET population = population + 1 WHERE countries.code = bump.code';
CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql STABLE AS 'SELECT auth.uid()::text';
INSERT INTO public.users VALUES ('${ALICE}', 'alice'), ('${BOB}', 'bob');
INSERT INTO public.posts (user_id, title, tags, meta, score) VALUES
  ('${ALICE}', 'first', '{a,b}', '{"lang": "en", "n": 1}', 10),
  ('${ALICE}', 'second', '{b}', '{"lang": "fr", "n": 2}', 20),
  ('${BOB}', 'third', '{c}', null, null),
  ('${BOB}', 'fourth, with "quotes" (and parens)', '{}', '{"lang": "en"}', 40);
INSERT INTO public.comments (post_id, author_id, body) VALUES
  (1, '${BOB}', 'nice'), (1, '${ALICE}', 'thanks'), (3, '${ALICE}', 'hm');
INSERT INTO public.countries VALUES ('fr', 'France', 68), ('de', 'Germany', 84);
INSERT INTO public.notes (user_id, body) VALUES ('${ALICE}', 'alice note'), ('${BOB}', 'bob note');
`;

let cluster: ScratchCluster;
let app: FastifyInstance;
let url: string;
let db: ReturnType<typeof poolBranchDb>;

const client = (key: string, token?: string) => testClient(url, key, token);
let anon: SupabaseClient;
let service: SupabaseClient;
let alice: SupabaseClient;
let bob: SupabaseClient;

/** data of a supabase-js result, failing the test with the error when there is one. */
async function ok<T>(p: PromiseLike<{ data: T; error: unknown }>): Promise<T> {
  const { data, error } = await p;
  assert.equal(error, null);
  return data;
}

before(async () => {
  cluster = await startScratchCluster({ name: "rest" });
  await withClient(cluster.url, async (c) => {
    await ensureRequestRoles(c);
    await c.query(SCHEMA);
  });
  db = poolBranchDb(cluster.url);
  ({ app, url } = await startRestApp({ db }));
  anon = client(TEST_KEYS.anon);
  service = client(TEST_KEYS.service);
  alice = client(TEST_KEYS.anon, userToken(ALICE));
  bob = client(TEST_KEYS.anon, userToken(BOB));
});
after(async () => {
  await app?.close();
  await db?.end();
  await cluster?.stop();
});

describe("reads through supabase-js", () => {
  test("select columns, filter, order, range and an exact count", async () => {
    const { data, error, count, status } = await anon
      .from("posts")
      .select("id, title, score", { count: "exact" })
      .gte("score", 10)
      .order("score", { ascending: false })
      .range(0, 1);
    assert.equal(error, null);
    assert.equal(status, 206);
    assert.equal(count, 3);
    assert.deepEqual(data, [
      { id: 4, title: 'fourth, with "quotes" (and parens)', score: 40 },
      { id: 2, title: "second", score: 20 },
    ]);
  });

  test("embeds: many-to-one as an object, one-to-many as an array with its own order and limit", async () => {
    const posts = await ok(
      anon.from("posts").select("id, author:users(name)").in("id", [1, 3]).order("id"),
    );
    assert.deepEqual(posts, [
      { id: 1, author: { name: "alice" } },
      { id: 3, author: { name: "bob" } },
    ]);
    const users = await ok(
      anon
        .from("users")
        .select("name, posts(title)")
        .order("name")
        .order("title", { referencedTable: "posts", ascending: false })
        .limit(1, { referencedTable: "posts" }),
    );
    assert.deepEqual(users, [
      { name: "alice", posts: [{ title: "second" }] },
      { name: "bob", posts: [{ title: "third" }] },
    ]);
    // Embeds nest: each comment's author through comments.author_id.
    const nested = await ok(
      anon.from("posts").select("title, comments(body, author:users(name))").eq("id", 1),
    );
    assert.deepEqual(nested, [
      {
        title: "first",
        comments: [
          { body: "nice", author: { name: "bob" } },
          { body: "thanks", author: { name: "alice" } },
        ],
      },
    ]);
  });

  test("!inner with a nested filter keeps only parents with a matching child; hints pick the key", async () => {
    const data = await ok(
      anon.from("posts").select("id, comments!inner(body)").eq("comments.body", "hm"),
    );
    assert.deepEqual(data, [{ id: 3, comments: [{ body: "hm" }] }]);
    const plain = await ok(
      anon
        .from("posts")
        .select("id, comments(body)")
        .eq("comments.body", "hm")
        .order("id")
        .limit(2),
    );
    assert.deepEqual(plain, [
      { id: 1, comments: [] },
      { id: 2, comments: [] },
    ]);
    const counted = await anon
      .from("posts")
      .select("id, comments!inner(body)", { count: "exact" })
      .eq("comments.body", "hm");
    assert.equal(counted.count, 1);
    const past = await anon.from("posts").select("id", { count: "exact" }).range(10, 19);
    assert.equal(past.status, 416);
    assert.equal(past.error?.code, "PGRST103");
    const hinted = await ok(
      anon.from("comments").select("body, users!author_id(name)").eq("id", 1),
    );
    assert.deepEqual(hinted, [{ body: "nice", users: { name: "bob" } }]);
  });

  test("or=(), not, in, is, like, contains, overlaps, JSON paths, casts", async () => {
    const ids = (rows: { id: number }[] | null) => (rows ?? []).map((r) => r.id);
    assert.deepEqual(
      ids(await ok(anon.from("posts").select("id").or("score.gt.15,title.eq.third").order("id"))),
      [2, 3, 4],
    );
    assert.deepEqual(
      ids(
        await ok(
          anon
            .from("posts")
            .select("id")
            .or("and(score.gte.10,score.lte.20),score.is.null")
            .order("id"),
        ),
      ),
      [1, 2, 3],
    );
    assert.deepEqual(
      ids(await ok(anon.from("posts").select("id").not("score", "is", null).order("id"))),
      [1, 2, 4],
    );
    assert.deepEqual(ids(await ok(anon.from("posts").select("id").is("score", null))), [3]);
    assert.deepEqual(ids(await ok(anon.from("posts").select("id").ilike("title", "%IRS%"))), [1]);
    assert.deepEqual(
      ids(await ok(anon.from("posts").select("id").contains("tags", ["b"]).order("id"))),
      [1, 2],
    );
    assert.deepEqual(
      ids(await ok(anon.from("posts").select("id").overlaps("tags", ["a", "c"]).order("id"))),
      [1, 3],
    );
    assert.deepEqual(
      ids(
        await ok(anon.from("posts").select("id").eq("title", 'fourth, with "quotes" (and parens)')),
      ),
      [4],
    );
    assert.deepEqual(
      ids(await ok(anon.from("posts").select("id").in("title", ["first", "x, (y)"]))),
      [1],
    );
    assert.deepEqual(
      await ok(
        anon.from("posts").select("id, lang:meta->>lang, n:meta->n").eq("meta->>lang", "fr"),
      ),
      [{ id: 2, lang: "fr", n: 2 }],
    );
    assert.deepEqual(await ok(anon.from("posts").select("id::text, s:score::float8").eq("id", 1)), [
      { id: "1", s: 10 },
    ]);
    assert.deepEqual(
      ids(await ok(anon.from("posts").select("id").not("id", "in", "(1,2,3)"))),
      [4],
    );
  });

  test("single() gives an object, or 406 PGRST116; maybeSingle() null; head with count", async () => {
    assert.deepEqual(await ok(anon.from("users").select("name").eq("id", ALICE).single()), {
      name: "alice",
    });
    const many = await anon.from("users").select("name").single();
    assert.equal(many.status, 406);
    assert.equal(many.error?.code, "PGRST116");
    assert.equal(many.error?.details, "The result contains 2 rows");
    assert.equal(
      await ok(anon.from("users").select("name").eq("name", "nobody").maybeSingle()),
      null,
    );
    const head = await anon.from("posts").select("*", { count: "exact", head: true });
    assert.equal(head.error, null);
    assert.equal(head.count, 4);
    assert.equal(head.data, null);
    await query(cluster.url, "ANALYZE public.posts");
    const planned = await anon.from("posts").select("id", { count: "planned" });
    assert.equal(planned.count, 4);
    const estimated = await anon.from("posts").select("id", { count: "estimated" }).gt("id", 1);
    assert.equal(estimated.count, 3);
  });

  test("a view gets the relationships of the table it shows", async () => {
    assert.deepEqual(await ok(anon.from("post_titles").select("title, users(name)").eq("id", 2)), [
      { title: "second", users: { name: "alice" } },
    ]);
  });
});

describe("writes through supabase-js", () => {
  test("insert one, many (bulk, columns=), minimal; update and delete with filters", async () => {
    const one = await service
      .from("countries")
      .insert({ code: "it", name: "Italy", population: 59 })
      .select();
    assert.equal(one.status, 201);
    assert.deepEqual(one.data, [{ code: "it", name: "Italy", population: 59 }]);
    const many = await ok(
      service
        .from("countries")
        .insert([
          { code: "es", name: "Spain" },
          { code: "pt", name: "Portugal", population: 10 },
        ])
        .select("code, population"),
    );
    assert.deepEqual(many, [
      { code: "es", population: null },
      { code: "pt", population: 10 },
    ]);
    const minimal = await service.from("countries").insert({ code: "nl", name: "Netherlands" });
    assert.equal(minimal.status, 201);
    assert.equal(minimal.data, null);
    const updated = await ok(
      service
        .from("countries")
        .update({ population: 48 })
        .eq("code", "es")
        .select("code, population")
        .single(),
    );
    assert.deepEqual(updated, { code: "es", population: 48 });
    const deleted = await service
      .from("countries")
      .delete({ count: "exact" })
      .in("code", ["nl", "pt"])
      .select("code")
      .order("code");
    assert.equal(deleted.error, null);
    assert.deepEqual(deleted.data, [{ code: "nl" }, { code: "pt" }]);
    assert.equal(deleted.count, 2);
    assert.deepEqual(await rows(cluster.url, "SELECT code FROM countries ORDER BY code"), [
      { code: "de" },
      { code: "es" },
      { code: "fr" },
      { code: "it" },
    ]);
  });

  test("upsert: merge-duplicates on the key or on_conflict=, ignore-duplicates; missing=default", async () => {
    const merged = await ok(
      service
        .from("countries")
        .upsert([
          { code: "fr", name: "France", population: 69 },
          { code: "be", name: "Belgium", population: 12 },
        ])
        .select()
        .order("code"),
    );
    assert.deepEqual(merged, [
      { code: "be", name: "Belgium", population: 12 },
      { code: "fr", name: "France", population: 69 },
    ]);
    await ok(
      service
        .from("countries")
        .upsert({ code: "XX", name: "Belgium", population: 13 }, { onConflict: "name" }),
    );
    await ok(
      service
        .from("countries")
        .upsert({ code: "de", name: "Germany", population: 1 }, { ignoreDuplicates: true }),
    );
    assert.deepEqual(
      await rows(
        cluster.url,
        "SELECT code, population FROM countries WHERE code IN ('XX', 'de', 'be') ORDER BY code",
      ),
      [
        { code: "XX", population: 13 },
        { code: "de", population: 84 },
      ],
    );
    // defaultToNull: false → missing=default: user_id takes its default, auth.uid().
    const note = await ok(
      alice
        .from("notes")
        .insert([{ body: "from the api" }], { defaultToNull: false })
        .select("user_id, body"),
    );
    assert.deepEqual(note, [{ user_id: ALICE, body: "from the api" }]);
  });

  test("constraint violations: 409 for unique and foreign keys, 400 for not null, nothing written", async () => {
    const dup = await service.from("countries").insert({ code: "fr", name: "Again" });
    assert.equal(dup.status, 409);
    assert.equal(dup.error?.code, "23505");
    assert.match(dup.error?.details ?? "", /Key \(code\)=\(fr\) already exists/);
    const fk = await service.from("comments").insert({ post_id: 999, body: "x" });
    assert.equal(fk.status, 409);
    assert.equal(fk.error?.code, "23503");
    const nn = await service.from("countries").insert({ code: "zz" });
    assert.equal(nn.status, 400);
    assert.equal(nn.error?.code, "23502");
    // A bulk insert is one statement: a bad row leaves the good ones out too.
    const bulk = await service.from("countries").insert([
      { code: "ok", name: "Fine" },
      { code: "fr", name: "Dup" },
    ]);
    assert.equal(bulk.status, 409);
    assert.deepEqual(
      await rows(cluster.url, "SELECT code FROM countries WHERE code IN ('ok', 'zz')"),
      [],
    );
  });
});

describe("functions (rpc)", () => {
  test("scalar, set of rows with select/order, GET for stable ones, void, the caller's identity", async () => {
    assert.equal(await ok(anon.rpc("add", { a: 1, b: 2 })), 3);
    assert.equal(await ok(anon.rpc("add", { a: 40, b: 2 }, { get: true })), 42);
    assert.deepEqual(
      await ok(
        anon.rpc("posts_of", { uid: ALICE }).select("title").order("id", { ascending: false }),
      ),
      [{ title: "second" }, { title: "first" }],
    );
    assert.deepEqual(
      await ok(anon.rpc("posts_of", { uid: BOB }, { get: true }).select("id").eq("title", "third")),
      [{ id: 3 }],
    );
    const bumped = await service.rpc("bump", { code: "de" });
    assert.equal(bumped.error, null);
    assert.equal(bumped.status, 204);
    assert.deepEqual(
      await rows(cluster.url, "SELECT population FROM countries WHERE code = 'de'"),
      [{ population: 85 }],
    );
    assert.equal(await ok(alice.rpc("whoami")), ALICE);
    assert.equal(await ok(anon.rpc("whoami")), null);
  });

  test("a function that writes refuses GET (read-only, 405); unknown or mistyped calls are 404/400", async () => {
    const get = await service.rpc("bump", { code: "de" }, { get: true });
    assert.equal(get.status, 405);
    assert.equal(get.error?.code, "25006");
    const unknown = await anon.rpc("nope", { a: 1 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.error?.code, "PGRST202");
    const wrongArgs = await anon.rpc("add", { a: 1, c: 2 });
    assert.equal(wrongArgs.status, 404);
    assert.equal(wrongArgs.error?.code, "PGRST202");
    const badValue = await anon.rpc("add", { a: "one", b: 2 });
    assert.equal(badValue.status, 400);
    assert.equal(badValue.error?.code, "22P02");
    assert.deepEqual(
      await rows(cluster.url, "SELECT population FROM countries WHERE code = 'de'"),
      [{ population: 85 }],
    );
  });
});

describe("row level security decides", () => {
  test("a signed-in user sees only their rows, anon none, the service role all", async () => {
    const bodies = (rs: { body: string }[] | null) => (rs ?? []).map((r) => r.body).sort();
    assert.deepEqual(bodies(await ok(bob.from("notes").select("body"))), ["bob note"]);
    assert.deepEqual(await ok(anon.from("notes").select("body")), []);
    assert.deepEqual(bodies(await ok(service.from("notes").select("body"))), [
      "alice note",
      "bob note",
      "from the api",
    ]);
    // Updates and deletes see only what the policy shows: bob cannot touch alice's note.
    const touched = await ok(
      bob.from("notes").update({ body: "hacked" }).eq("body", "alice note").select(),
    );
    assert.deepEqual(touched, []);
    assert.deepEqual(
      await rows(cluster.url, "SELECT count(*)::int AS n FROM notes WHERE body = 'alice note'"),
      [{ n: 1 }],
    );
  });

  test("a write the policy refuses is 42501: 401 for anon, 403 for a user", async () => {
    const asAnon = await anon.from("notes").insert({ user_id: ALICE, body: "anon" });
    assert.equal(asAnon.status, 401);
    assert.equal(asAnon.error?.code, "42501");
    const forged = await bob.from("notes").insert({ user_id: ALICE, body: "as alice" });
    assert.equal(forged.status, 403);
    assert.equal(forged.error?.code, "42501");
    assert.deepEqual(
      await rows(
        cluster.url,
        "SELECT count(*)::int AS n FROM notes WHERE body IN ('anon', 'as alice')",
      ),
      [{ n: 0 }],
    );
  });
});

describe("the schema cache follows DDL", () => {
  test("a column added (and dropped) on the database is seen on the next request, no restart", async () => {
    const before = await anon.from("users").select("id, nickname");
    assert.equal(before.status, 400);
    assert.equal(before.error?.code, "42703");
    await query(cluster.url, "ALTER TABLE public.users ADD COLUMN nickname text DEFAULT 'nick'");
    assert.deepEqual(await ok(anon.from("users").select("name, nickname").eq("name", "bob")), [
      { name: "bob", nickname: "nick" },
    ]);
    await query(
      cluster.url,
      "ALTER TABLE public.users DROP COLUMN nickname; CREATE TABLE public.later (id int PRIMARY KEY)",
    );
    assert.equal((await anon.from("users").select("nickname")).error?.code, "42703");
    assert.deepEqual(await ok(anon.from("later").select()), []);
  });
});

describe("bad input gets PostgREST's 4xx and changes nothing", () => {
  interface Raw {
    status: number;
    body: Record<string, unknown> | unknown[] | null;
  }
  async function raw(
    path: string,
    o: { method?: string; headers?: Record<string, string>; body?: string; key?: string } = {},
  ): Promise<Raw> {
    const res = await fetch(`${url}/rest/v1/${path}`, {
      method: o.method ?? "GET",
      headers: {
        apikey: o.key ?? TEST_KEYS.service,
        ...(o.body !== undefined ? { "content-type": "application/json" } : {}),
        ...o.headers,
      },
      body: o.body,
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  }
  const counts = () =>
    rows(
      cluster.url,
      `SELECT (SELECT count(*) FROM posts)::int AS posts, (SELECT count(*) FROM comments)::int AS comments,
              (SELECT count(*) FROM countries)::int AS countries, (SELECT count(*) FROM users)::int AS users`,
    );

  const cases: [string, Parameters<typeof raw>[1], number, string][] = [
    ["nope", {}, 404, "PGRST205"],
    ["pg_class", {}, 404, "PGRST205"],
    ["posts?select=nope", {}, 400, "42703"],
    ["posts?select=id,", {}, 400, "PGRST100"],
    ["posts?select=*,comments(*", {}, 400, "PGRST100"],
    ["posts?id=zz.1", {}, 400, "PGRST100"],
    ["posts?id=eq.abc", {}, 400, "22P02"],
    ["posts?id=in.(1,2))", {}, 400, "PGRST100"],
    ["posts?or=(id.eq.1", {}, 400, "PGRST100"],
    ["posts?score=is.maybe", {}, 400, "PGRST100"],
    ["posts?select=id::nosuchtype", {}, 400, "42704"],
    ["posts?limit=abc", {}, 400, "PGRST100"],
    ["posts?select=*,countries(*)", {}, 400, "PGRST200"],
    ["posts?comments.body=eq.x", {}, 400, "PGRST108"],
    [`posts?select=${encodeURIComponent("id;drop table posts")}`, {}, 400, "42703"],
    [`posts?order=${encodeURIComponent("id;drop table posts")}`, {}, 400, "42703"],
    [`posts?order=${encodeURIComponent("id.desc;drop table posts")}`, {}, 400, "PGRST100"],
    [`posts?${encodeURIComponent("id;drop table posts")}=eq.1`, {}, 400, "42703"],
    ["posts?select=a%00b", {}, 400, "PGRST100"],
    ["posts", { headers: { accept: "text/csv" } }, 406, "PGRST107"],
    ["posts", { headers: { range: "abc" } }, 416, "PGRST103"],
    ["posts", { headers: { "accept-profile": "auth" } }, 406, "PGRST106"],
    [
      "countries",
      { method: "POST", body: "{bad json", headers: { "content-profile": "pg_catalog" } },
      406,
      "PGRST106",
    ],
    ["countries", { method: "POST", body: "{bad json" }, 400, "PGRST102"],
    ["countries", { method: "POST", body: "" }, 400, "PGRST102"],
    ["countries", { method: "POST", body: "[1, 2]" }, 400, "PGRST102"],
    [
      "countries",
      { method: "POST", body: '{"code": "q1", "name": "Q", "nope": 1}' },
      400,
      "PGRST204",
    ],
    [
      `countries?columns=${encodeURIComponent('code,"name;drop table posts"')}`,
      { method: "POST", body: '{"code": "q2"}' },
      400,
      "PGRST204",
    ],
    [
      `countries?on_conflict=${encodeURIComponent('"code);drop table countries;--"')}`,
      {
        method: "POST",
        body: '{"code": "fr", "name": "F"}',
        headers: { prefer: "resolution=merge-duplicates" },
      },
      400,
      "PGRST204",
    ],
    ["countries?code=eq.fr", { method: "PATCH", body: '[{"population": 1}]' }, 400, "PGRST102"],
    ["countries?code=eq.fr", { method: "PATCH", body: '{"population": "many"}' }, 400, "22P02"],
    [
      `rpc/${encodeURIComponent("add;drop table posts")}`,
      { method: "POST", body: '{"a": 1, "b": 2}' },
      404,
      "PGRST202",
    ],
    ["rpc/add", { method: "POST", body: "{nope" }, 400, "PGRST102"],
    ["posts/1/2", {}, 404, "PGRST125"],
    ["t".repeat(70), {}, 404, "PGRST205"],
    ["posts?id=eq.1", { method: "PUT", body: '{"id": 1}' }, 405, "PGRST117"],
    [
      "countries",
      { method: "POST", body: JSON.stringify({ code: "big", name: "x".repeat(2_000_000) }) },
      413,
      "PGRST000",
    ],
  ];

  test("each case answers its status and code with { code, message, details, hint }; nothing changed", async () => {
    const before = await counts();
    for (const [path, o, status, code] of cases) {
      const r = await raw(path, o);
      assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(
        Object.keys(r.body ?? {}).sort(),
        ["code", "details", "hint", "message"],
        path,
      );
      assert.equal((r.body as { code: string }).code, code, path);
    }
    assert.deepEqual(await counts(), before);
  });

  test("messages say what PostgREST says", async () => {
    assert.deepEqual((await raw("nope")).body, {
      code: "PGRST205",
      details: null,
      hint: null,
      message: "Could not find the table 'public.nope' in the schema cache",
    });
    assert.equal(
      ((await raw("posts?select=nope")).body as { message: string }).message,
      "column posts.nope does not exist",
    );
  });

  test("quotes and parentheses in values and aliases are data, not SQL", async () => {
    const title = "x');drop table posts;--\"";
    assert.deepEqual((await raw(`posts?title=eq.${encodeURIComponent(title)}`)).body, []);
    const alias = 'x");drop table posts;--';
    const aliased = await raw(
      `posts?select=${encodeURIComponent(`"${alias.replaceAll('"', '\\"')}":id`)}&id=eq.1`,
    );
    assert.equal(aliased.status, 200);
    assert.deepEqual(aliased.body, [{ [alias]: 1 }]);
    const jsonKey = await raw(
      `posts?select=${encodeURIComponent('v:meta->>"lang\');drop table posts;--"')}&id=eq.1`,
    );
    assert.deepEqual(jsonKey.body, [{ v: null }]);
    assert.deepEqual(
      await rows(cluster.url, "SELECT to_regclass('public.posts') IS NOT NULL AS ok"),
      [{ ok: true }],
    );
  });
});

describe("schemas and transactions", () => {
  test("Accept-Profile/Content-Profile pick an exposed schema; system schemas are never exposed", async () => {
    await query(
      cluster.url,
      `CREATE SCHEMA api; GRANT USAGE ON SCHEMA api TO anon, service_role;
       CREATE TABLE api.things (id int PRIMARY KEY, name text); GRANT ALL ON api.things TO anon, service_role;
       INSERT INTO api.things VALUES (1, 'api thing');
       CREATE TABLE public.things (id int PRIMARY KEY, label text); INSERT INTO public.things VALUES (1, 'public thing');`,
    );
    const second = await startRestApp({ db, schemas: ["public", "api"] });
    try {
      const c = testClient(second.url, TEST_KEYS.anon);
      assert.deepEqual(await ok(c.from("things").select()), [{ id: 1, label: "public thing" }]);
      assert.deepEqual(await ok(c.schema("api").from("things").select()), [
        { id: 1, name: "api thing" },
      ]);
      assert.deepEqual(
        await ok(c.schema("api").from("things").insert({ id: 2, name: "two" }).select("id")),
        [{ id: 2 }],
      );
      const refused = await c.schema("auth").from("users").select();
      assert.equal(refused.status, 406);
      assert.equal(refused.error?.code, "PGRST106");
      assert.equal(refused.error?.message, "The schema must be one of the following: public, api");
    } finally {
      await second.app.close();
    }
    // The first app exposes public only: api is a 406 there.
    assert.equal((await anon.schema("api").from("things").select()).status, 406);
    for (const schemas of [["auth"], ["public", "pg_catalog"], ["bough"], []]) {
      assert.throws(
        () => createRestService({ schemas }),
        /system schemas cannot be exposed|at least one/,
      );
    }
  });

  test("Prefer: tx=rollback answers with the result and keeps nothing", async () => {
    const res = await fetch(`${url}/rest/v1/countries?select=code`, {
      method: "POST",
      headers: {
        apikey: TEST_KEYS.service,
        "content-type": "application/json",
        prefer: "return=representation, tx=rollback",
      },
      body: JSON.stringify({ code: "rb", name: "Rollback" }),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), [{ code: "rb" }]);
    assert.deepEqual(await rows(cluster.url, "SELECT code FROM countries WHERE code = 'rb'"), []);
  });

  test("single() on a write that touches several rows is a 406 and rolls the write back", async () => {
    const res = await service
      .from("countries")
      .update({ population: 0 })
      .in("code", ["fr", "de"])
      .select()
      .single();
    assert.equal(res.status, 406);
    assert.equal(res.error?.code, "PGRST116");
    assert.deepEqual(
      await rows(cluster.url, "SELECT count(*)::int AS n FROM countries WHERE population = 0"),
      [{ n: 0 }],
    );
  });
});

describe("less common corners", () => {
  test("or= on an embed, like(any), isdistinct, full-text search, nulls=stripped", async () => {
    assert.deepEqual(
      await ok(
        anon
          .from("posts")
          .select("id, comments(body)")
          .eq("id", 1)
          .or("body.eq.nice,body.eq.none", { referencedTable: "comments" }),
      ),
      [{ id: 1, comments: [{ body: "nice" }] }],
    );
    assert.deepEqual(
      await ok(anon.from("posts").select("id").likeAnyOf("title", ["fir*", "*ird"]).order("id")),
      [{ id: 1 }, { id: 3 }],
    );
    assert.deepEqual(
      await ok(anon.from("posts").select("id").filter("score", "isdistinct", "10").order("id")),
      [{ id: 2 }, { id: 3 }, { id: 4 }],
    );
    assert.deepEqual(
      await ok(anon.from("posts").select("id").textSearch("title", "second | third").order("id")),
      [{ id: 2 }, { id: 3 }],
    );
    assert.deepEqual(
      await ok(
        anon
          .from("posts")
          .select("id")
          .textSearch("title", "'fourth' quotes", { type: "websearch", config: "english" }),
      ),
      [{ id: 4 }],
    );
    assert.deepEqual(await ok(anon.from("posts").select("id, score").eq("id", 3).stripNulls()), [
      { id: 3 },
    ]);
  });

  test("rel(count) counts the related rows", async () => {
    assert.deepEqual(
      await ok(anon.from("posts").select("id, comments(count)").in("id", [1, 2]).order("id")),
      [
        { id: 1, comments: [{ count: 2 }] },
        { id: 2, comments: [{ count: 0 }] },
      ],
    );
  });

  test("delete with order and limit removes just those rows; headers-only gives a Location", async () => {
    await ok(
      service.from("countries").insert([
        { code: "l1", name: "L1" },
        { code: "l2", name: "L2" },
        { code: "l3", name: "L3" },
      ]),
    );
    const del = await ok(
      service
        .from("countries")
        .delete()
        .like("code", "l%")
        .order("code", { ascending: false })
        .limit(2)
        .select("code"),
    );
    assert.deepEqual(del, [{ code: "l3" }, { code: "l2" }]);
    assert.deepEqual(await rows(cluster.url, "SELECT code FROM countries WHERE code LIKE 'l%'"), [
      { code: "l1" },
    ]);
    const res = await fetch(`${url}/rest/v1/countries`, {
      method: "POST",
      headers: {
        apikey: TEST_KEYS.service,
        "content-type": "application/json",
        prefer: "return=headers-only",
      },
      body: JSON.stringify({ code: "h1", name: "H1" }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), "/countries?code=eq.h1");
    assert.equal(await res.text(), "");
  });

  test("a function with one json argument takes the whole body", async () => {
    await query(
      cluster.url,
      `CREATE FUNCTION public.echo(json) RETURNS json LANGUAGE sql IMMUTABLE AS 'SELECT $1';
       CREATE FUNCTION public.keys_of(payload jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE
         AS 'SELECT array(SELECT jsonb_object_keys(payload) ORDER BY 1)';`,
    );
    assert.deepEqual(await ok(anon.rpc("echo", { a: [1, 2], b: "x" })), { a: [1, 2], b: "x" });
    const res = await fetch(`${url}/rest/v1/rpc/keys_of`, {
      method: "POST",
      headers: {
        apikey: TEST_KEYS.anon,
        "content-type": "application/json",
        prefer: "params=single-object",
      },
      body: JSON.stringify({ z: 1, a: 2 }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), ["a", "z"]);
  });
});
