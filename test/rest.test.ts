import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SupabaseClient } from "@supabase/supabase-js";
import type { FastifyInstance } from "fastify";
import { withClient } from "../src/branches/sql.ts";
import { poolBranchDb } from "../src/platform/branch-db.ts";
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
});
