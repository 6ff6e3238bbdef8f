import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { stopBranchOp } from "../src/branches/start-stop.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { query, rows } from "./helpers/sql.ts";

// Realtime through the real server and the real supabase-js client (with `ws` as its
// WebSocket): postgres_changes from each branch's own WAL, filtered, RLS-checked per
// subscriber, broadcast and presence, and what bad clients cannot break.
const P = "rt";
const s = platformServer(P);
let mainUrl = "";
let featureUrl = "";
const clients: SupabaseClient[] = [];

const WAIT_MS = 20_000;

async function rtClient(branch: string, which: "publishableKey" | "secretKey" = "publishableKey") {
  const sb = await s.client(branch, which, { realtime: true });
  clients.push(sb);
  return sb;
}

async function signedIn(branch: string, email: string) {
  const sb = await rtClient(branch);
  const r = await sb.auth.signUp({ email, password: "correct horse" });
  assert.equal(r.error, null);
  // As supabase-js does on SIGNED_IN, awaited so the join carries the user's token.
  await sb.realtime.setAuth(String(r.data.session?.access_token));
  return { sb, id: String(r.data.user?.id) };
}

type Payload = Record<string, unknown> & {
  new: Record<string, unknown>;
  old: Record<string, unknown>;
};

/** Subscribes to postgres_changes; resolves once SUBSCRIBED (or rejects with the error). */
async function listen(
  sb: SupabaseClient,
  topic: string,
  filter: { event: string; schema: string; table?: string; filter?: string },
) {
  const events: Payload[] = [];
  const waiters: { pred: (p: Payload) => boolean; resolve: () => void }[] = [];
  const channel = sb
    .channel(topic)
    .on("postgres_changes" as never, filter as never, (p: Payload) => {
      events.push(p);
      for (const w of [...waiters]) {
        if (w.pred(p)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  await subscribed(channel);
  return {
    events,
    channel,
    /** Resolves when an event matching pred has arrived (or already had). */
    until(pred: (p: Payload) => boolean): Promise<void> {
      if (events.some(pred)) return Promise.resolve();
      return within(new Promise<void>((resolve) => waiters.push({ pred, resolve })), "event");
    },
  };
}

function subscribed(channel: RealtimeChannel): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      channel.subscribe((status, err) => {
        if (status === "SUBSCRIBED") resolve();
        else reject(Object.assign(new Error(`${status}: ${err?.message}`), { status }));
      });
    }),
    "SUBSCRIBED",
  );
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
    }),
  ]);
}

/** Polls until fn() is true (for server-side state with no event to wait on). */
async function eventually(fn: () => Promise<boolean>, what: string) {
  const end = Date.now() + WAIT_MS;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`not ${what} within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const titles = (events: Payload[]) => events.map((e) => e.new.title ?? e.old.title);

/** A raw socket on a branch's realtime endpoint. */
async function rawSocket(branch: string, key?: string) {
  const apikey = key ?? (await s.keysOf(branch)).publishableKey;
  const url = `${s.urlOf(branch).replace("http", "ws")}/realtime/v1/websocket?apikey=${apikey}&vsn=2.0.0`;
  const ws = new WebSocket(url);
  const frames: unknown[] = [];
  ws.on("message", (d) => frames.push(JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  await within(new Promise((r, j) => ws.once("open", r).once("error", j)), "open");
  return { ws, frames, closed };
}

before(async () => {
  mainUrl = await s.start();
  await query(
    mainUrl,
    `CREATE TABLE public.todos (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       user_id uuid,
       title text NOT NULL,
       done boolean NOT NULL DEFAULT false,
       meta jsonb,
       big text);
     ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
     CREATE POLICY "own todos" ON public.todos TO authenticated USING (auth.uid() = user_id);
     CREATE POLICY "public todos" ON public.todos TO anon USING (user_id IS NULL);
     CREATE TABLE public.secrets (id int PRIMARY KEY, v text);
     REVOKE ALL ON public.secrets FROM anon, authenticated;
     CREATE TABLE public.quiet (id int PRIMARY KEY);
     ALTER PUBLICATION supabase_realtime ADD TABLE public.todos, public.secrets;
     INSERT INTO realtime.channel_settings (topic, private) VALUES ('vip', true);`,
  );
  featureUrl = await s.t.branch(P, "feature");
});

// Each test's channels end with it (a branch's slot lives while it has listeners).
afterEach(async () => {
  for (const sb of clients.splice(0)) await sb.removeAllChannels();
});
after(() => s.stop());

test("INSERT, UPDATE and DELETE reach a subscriber in commit order, in Supabase's shape", async () => {
  const sb = await rtClient("main");
  const l = await listen(sb, "all-todos", { event: "*", schema: "public", table: "todos" });
  await query(mainUrl, `INSERT INTO todos (title, meta) VALUES ('write tests', '{"n": 1}')`);
  await query(mainUrl, `UPDATE todos SET done = true WHERE title = 'write tests'`);
  // RLS is checked when a change is delivered (as walrus does): an UPDATE whose row is
  // already deleted by then is not visible any more, so the DELETE waits for it.
  await l.until((p) => p.eventType === "UPDATE");
  await query(mainUrl, `DELETE FROM todos WHERE title = 'write tests'`);
  await l.until((p) => p.eventType === "DELETE");
  const [ins, upd, del] = l.events;
  assert.deepEqual(
    l.events.map((e) => e.eventType),
    ["INSERT", "UPDATE", "DELETE"],
  );
  assert.equal(ins.schema, "public");
  assert.equal(ins.table, "todos");
  assert.match(String(ins.commit_timestamp), /^\d{4}-\d\d-\d\dT/);
  assert.equal(typeof ins.new.id, "number");
  assert.deepEqual(
    { title: ins.new.title, done: ins.new.done, meta: ins.new.meta },
    { title: "write tests", done: false, meta: { n: 1 } },
  );
  assert.equal(upd.new.done, true);
  assert.deepEqual(upd.old, { id: ins.new.id });
  // A delete on an RLS table carries the key only, as on Supabase.
  assert.deepEqual(del.old, { id: ins.new.id });
  assert.deepEqual(del.new, {});
});

test("filter= delivers only the rows that match (eq, in, gt)", async () => {
  const sb = await rtClient("main");
  const eq = await listen(sb, "f-eq", {
    event: "INSERT",
    schema: "public",
    table: "todos",
    filter: "title=eq.yes",
  });
  const inList = await listen(sb, "f-in", {
    event: "INSERT",
    schema: "public",
    table: "todos",
    filter: "title=in.(a,yes)",
  });
  const [{ id: start }] = await rows<{ id: string }>(
    mainUrl,
    "SELECT coalesce(max(id), 0) + 3 AS id FROM todos",
  );
  const gt = await listen(sb, "f-gt", {
    event: "INSERT",
    schema: "public",
    table: "todos",
    filter: `id=gt.${start}`,
  });
  await query(mainUrl, "INSERT INTO todos (title) VALUES ('no'), ('a'), ('yes'), ('b'), ('end')");
  await eq.until((p) => p.new.title === "yes");
  await inList.until((p) => p.new.title === "yes");
  await gt.until((p) => p.new.title === "end");
  assert.deepEqual(titles(eq.events), ["yes"]);
  assert.deepEqual(titles(inList.events), ["a", "yes"]);
  // ids start+1.. : the rows after the first `start` ids.
  assert.ok(!titles(gt.events).includes("no"));
  assert.ok(titles(gt.events).includes("end"));
});

test("RLS: each signed-in user receives only their own rows", async () => {
  const ann = await signedIn("main", "ann@example.com");
  const bob = await signedIn("main", "bob@example.com");
  const a = await listen(ann.sb, "mine", { event: "INSERT", schema: "public", table: "todos" });
  const b = await listen(bob.sb, "mine", { event: "INSERT", schema: "public", table: "todos" });
  await query(
    mainUrl,
    `INSERT INTO todos (user_id, title) VALUES ($1, 'ann 1'), ($2, 'bob 1'), (NULL, 'nobody');
     INSERT INTO todos (user_id, title) VALUES ($1, 'ann 2'), ($2, 'bob 2')`
      .replace(/\$1/g, `'${ann.id}'`)
      .replace(/\$2/g, `'${bob.id}'`),
  );
  await a.until((p) => p.new.title === "ann 2");
  await b.until((p) => p.new.title === "bob 2");
  assert.deepEqual(titles(a.events), ["ann 1", "ann 2"]);
  assert.deepEqual(titles(b.events), ["bob 1", "bob 2"]);
});

test("a subscriber on main gets no event from writes on a branch, and vice versa", async () => {
  const onMain = await listen(await rtClient("main"), "iso", {
    event: "INSERT",
    schema: "public",
    table: "todos",
  });
  const onBranch = await listen(await rtClient("feature"), "iso", {
    event: "INSERT",
    schema: "public",
    table: "todos",
  });
  await query(featureUrl, "INSERT INTO todos (title) VALUES ('on the branch')");
  await onBranch.until((p) => p.new.title === "on the branch");
  await query(mainUrl, "INSERT INTO todos (title) VALUES ('on main')");
  await onMain.until((p) => p.new.title === "on main");
  await query(featureUrl, "INSERT INTO todos (title) VALUES ('branch again')");
  await onBranch.until((p) => p.new.title === "branch again");
  assert.deepEqual(titles(onMain.events), ["on main"]);
  assert.deepEqual(titles(onBranch.events), ["on the branch", "branch again"]);
});

test("a 100 kB row arrives whole", async () => {
  const l = await listen(await rtClient("main"), "big", {
    event: "INSERT",
    schema: "public",
    table: "todos",
    filter: "title=eq.big",
  });
  await query(mainUrl, "INSERT INTO todos (title, big) VALUES ('big', repeat('x', 100000))");
  await l.until((p) => p.new.title === "big");
  assert.equal(String(l.events[0].new.big).length, 100_000);
});

test("broadcast between two clients: self and ack honoured, other branches not reached", async () => {
  const [a, b, other] = [await rtClient("main"), await rtClient("main"), await rtClient("feature")];
  const got = { a: [] as unknown[], b: [] as unknown[], other: [] as unknown[] };
  const chA = a.channel("room", { config: { broadcast: { self: true, ack: true } } });
  chA.on("broadcast", { event: "msg" }, (m) => got.a.push(m.payload));
  const chB = b.channel("room").on("broadcast", { event: "msg" }, (m) => got.b.push(m.payload));
  const chO = other
    .channel("room")
    .on("broadcast", { event: "msg" }, (m) => got.other.push(m.payload));
  await Promise.all([subscribed(chA), subscribed(chB), subscribed(chO)]);
  assert.equal(await chA.send({ type: "broadcast", event: "msg", payload: { n: 1 } }), "ok");
  await eventually(async () => got.b.length === 1 && got.a.length === 1, "broadcast delivered");
  // B has no ack: send resolves at once; A receives it (B did not ask for self).
  await chB.send({ type: "broadcast", event: "msg", payload: { n: 2 } });
  await eventually(async () => got.a.length === 2, "second broadcast");
  assert.deepEqual(got.a, [{ n: 1 }, { n: 2 }]);
  assert.deepEqual(got.b, [{ n: 1 }]);
  assert.deepEqual(got.other, []);
});

test("presence: track and untrack reach the other members", async () => {
  const [a, b] = [await rtClient("main"), await rtClient("main")];
  const chA = a.channel("lobby", { config: { presence: { key: "ann" } } });
  const chB = b.channel("lobby", { config: { presence: { key: "bob" } } });
  const left: string[] = [];
  chB.on("presence", { event: "leave" }, ({ key }) => left.push(key));
  chA.on("presence", { event: "sync" }, () => {});
  await Promise.all([subscribed(chA), subscribed(chB)]);
  assert.equal(await chA.track({ status: "online" }), "ok");
  await eventually(async () => "ann" in chB.presenceState(), "ann present for bob");
  assert.equal((chB.presenceState().ann[0] as unknown as { status: string }).status, "online");
  assert.equal(await chA.untrack(), "ok");
  await eventually(async () => left.includes("ann") && !("ann" in chB.presenceState()), "ann gone");
});

test("subscribing to a table without SELECT, or not enabled, or a bad filter: an error reply, nothing else breaks", async () => {
  const sb = await rtClient("main");
  const refused = (filter: object) => listen(sb, `bad-${JSON.stringify(filter)}`, filter as never);
  await assert.rejects(
    refused({ event: "*", schema: "public", table: "secrets" }),
    /CHANNEL_ERROR: .*no SELECT permission on public\.secrets/,
  );
  await assert.rejects(
    refused({ event: "*", schema: "public", table: "quiet" }),
    /not enabled for realtime/,
  );
  await assert.rejects(
    refused({ event: "*", schema: "public", table: "todos", filter: "id=eq.notanumber" }),
    /not a valid int8/,
  );
  await assert.rejects(
    refused({ event: "*", schema: "public", table: "todos", filter: "id=like.1" }),
    /unknown operator/,
  );
  for (const ch of sb.getChannels()) await sb.removeChannel(ch);
  // The secret key may: service_role has SELECT.
  const svc = await listen(await rtClient("main", "secretKey"), "secrets", {
    event: "INSERT",
    schema: "public",
    table: "secrets",
  });
  await query(mainUrl, "INSERT INTO secrets VALUES (1, 's')");
  await svc.until((p) => p.new.id === 1);
  // And the refused client's socket still serves other channels.
  const ok = await listen(sb, "after-errors", {
    event: "INSERT",
    schema: "public",
    table: "todos",
  });
  await query(mainUrl, "INSERT INTO todos (title) VALUES ('still fine')");
  await ok.until((p) => p.new.title === "still fine");
});

test("private channels admit signed-in users only", async () => {
  const anon = await rtClient("main");
  await assert.rejects(
    subscribed(anon.channel("vip")),
    /permissions to read from this Channel topic: vip/,
  );
  await assert.rejects(
    subscribed(anon.channel("secret-room", { config: { private: true } })),
    /permissions/,
  );
  const user = await signedIn("main", "carol@example.com");
  await subscribed(user.sb.channel("vip"));
});

test("malformed frames get an error, oversized ones close that socket only; bad keys are refused", async () => {
  const raw = await rawSocket("main");
  raw.ws.send("not json");
  raw.ws.send(JSON.stringify({ topic: "x" }));
  raw.ws.send(JSON.stringify(["1", "1", "realtime:nojoin", "broadcast", {}]));
  raw.ws.send(Buffer.from([9, 9, 9]), { binary: true });
  raw.ws.send(JSON.stringify([null, "hb", "phoenix", "heartbeat", {}]));
  await eventually(async () => raw.frames.length >= 5, "five replies");
  const [bad1, bad2, unmatched, bad3, hb] = raw.frames as unknown[][];
  assert.deepEqual([bad1[3], bad2[3], bad3[3]], ["phx_error", "phx_error", "phx_error"]);
  assert.match(JSON.stringify(bad1[4]), /not valid JSON/);
  assert.deepEqual(unmatched[4], { status: "error", response: { reason: "unmatched topic" } });
  assert.deepEqual(hb, [null, "hb", "phoenix", "phx_reply", { status: "ok", response: {} }]);

  const other = await rawSocket("main");
  raw.ws.send("x".repeat(2 * 1024 * 1024));
  assert.equal(await raw.closed, 1009);
  other.ws.send(JSON.stringify([null, "2", "phoenix", "heartbeat", {}]));
  await eventually(async () => other.frames.length === 1, "the other socket answers");
  other.ws.close();

  const refused = new WebSocket(
    `${s.urlOf("main").replace("http", "ws")}/realtime/v1/websocket?apikey=nope&vsn=2.0.0`,
  );
  const status = await new Promise<number>((r) =>
    refused.on("unexpected-response", (_q, res) => r(res.statusCode ?? 0)),
  );
  assert.equal(status, 401);
  // Main's key is not the branch's.
  const mainKeyOnBranch = new WebSocket(
    `${s.urlOf("feature").replace("http", "ws")}/realtime/v1/websocket?apikey=${(await s.keysOf("main")).publishableKey}&vsn=2.0.0`,
  );
  const status2 = await new Promise<number>((r) =>
    mainKeyOnBranch.on("unexpected-response", (_q, res) => r(res.statusCode ?? 0)),
  );
  assert.equal(status2, 401);
});

const slots = (url: string) =>
  rows<{ n: number }>(
    url,
    "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name LIKE 'bough_realtime%'",
  );

test("the temporary slot lives while a branch has listeners; a stopped branch's sockets are closed", async () => {
  const sb = await rtClient("feature");
  const l = await listen(sb, "slot", { event: "*", schema: "public", table: "todos" });
  assert.equal((await slots(featureUrl))[0].n, 1);
  await sb.removeChannel(l.channel);
  await eventually(async () => (await slots(featureUrl))[0].n === 0, "slot dropped");

  const raw = await rawSocket("feature");
  raw.ws.send(
    JSON.stringify([
      "1",
      "1",
      "realtime:slot",
      "phx_join",
      { config: { postgres_changes: [{ event: "*", schema: "public", table: "todos" }] } },
    ]),
  );
  await eventually(async () => (await slots(featureUrl))[0].n === 1, "slot created");
  await stopBranchOp(s.t.ctx, { project: P, name: "feature" });
  assert.equal(await raw.closed, 1012);
});

test("closing the app closes its sockets and replication connections", async () => {
  const app = buildApp(s.t.ctx);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.server.address() as { port: number }).port;
  const key = (await s.keysOf("main")).publishableKey;
  const ws = new WebSocket(
    `ws://127.0.0.1:${port}/p/${P}/b/main/realtime/v1/websocket?apikey=${key}&vsn=2.0.0`,
  );
  const frames: unknown[][] = [];
  ws.on("message", (d) => frames.push(JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  await within(new Promise((r) => ws.once("open", r)), "open");
  const before = (await slots(mainUrl))[0].n;
  ws.send(
    JSON.stringify([
      "1",
      "1",
      "realtime:x",
      "phx_join",
      { config: { postgres_changes: [{ event: "*", schema: "public", table: "todos" }] } },
    ]),
  );
  await eventually(async () => frames.some((f) => f[3] === "phx_reply"), "joined");
  assert.equal((await slots(mainUrl))[0].n, before + 1);
  await app.close();
  assert.equal(await closed, 1001);
  await eventually(
    async () => (await slots(mainUrl))[0].n === before,
    "slot of the closed app dropped",
  );
});
