import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AuditEntry } from "../src/control/audit.ts";
import {
  bough,
  boughJson,
  freePort,
  initialisedHome,
  type RunningUp,
  startUp,
} from "./helpers/cli.ts";
import { query, rows } from "./helpers/sql.ts";

interface BranchJson {
  name: string;
  parent: string | null;
  port: number;
  protected: boolean;
  expiresAt: string | null;
  forkedAt: string | null;
  connectionString: string;
}
interface Keys {
  apiUrl: string;
  publishableKey: string;
  secretKey: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One home for the whole file: reset --to-parent, protection, rename, then expiry.
describe("branch reset --to-parent, protection, rename and expiry", () => {
  let home: string;
  let mainUrl: string;
  let remove: () => Promise<void>;
  let up: RunningUp | undefined;

  const show = (name: string) => boughJson<BranchJson>(home, ["branch", "show", name]);
  const keys = (name: string) => boughJson<Keys>(home, ["branch", "keys", name]);
  const audit = (branch: string) => boughJson<AuditEntry[]>(home, ["audit", "--branch", branch]);

  before(async () => {
    ({ home, mainUrl, remove } = await initialisedHome(
      "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'main');",
    ));
    await boughJson(home, ["branch", "create", "feat"]);
  });

  after(async () => {
    if (up) {
      up.proc.kill("SIGINT");
      await up.exited;
    }
    await remove();
  });

  test("reset --to-parent: the parent's latest rows and schema, same port and keys, empty merge", async () => {
    const before = await show("feat");
    const featKeys = await keys("feat");
    await query(before.connectionString, "INSERT INTO notes VALUES (2, 'feat only')");
    await query(
      mainUrl,
      "INSERT INTO notes VALUES (3, 'main later'); ALTER TABLE notes ADD tag text",
    );

    const after = await boughJson<BranchJson>(home, ["branch", "reset", "feat", "--to-parent"]);
    assert.equal(after.port, before.port);
    assert.notEqual(after.forkedAt, before.forkedAt);
    assert.deepEqual(
      await rows(after.connectionString, "SELECT id, body, tag FROM notes ORDER BY id"),
      [
        { id: 1, body: "main", tag: null },
        { id: 3, body: "main later", tag: null },
      ],
    );
    assert.deepEqual(await keys("feat"), featKeys);
    const dry = await boughJson<{ changes: unknown[]; parentChanges: unknown[] }>(home, [
      "branch",
      "merge",
      "feat",
      "--dry-run",
    ]);
    assert.deepEqual(dry.changes, []);
    assert.deepEqual(dry.parentChanges, []);
    // A plain reset now goes back to this new T0, not to the first fork.
    await query(after.connectionString, "DELETE FROM notes");
    await boughJson(home, ["branch", "reset", "feat"]);
    assert.equal((await rows(after.connectionString, "SELECT id FROM notes")).length, 2);
    const entry = (await audit("feat")).find((r) => r.action === "branch.reset" && r.args.toParent);
    assert.equal(entry?.result, "ok");
  });

  test("protection refuses reset, reset --to-parent and delete; unprotect allows; main is protected", async () => {
    assert.equal((await show("main")).protected, true);
    await boughJson(home, ["branch", "create", "child", "--from", "feat", "--no-switch"]);
    const p = await boughJson<BranchJson>(home, ["branch", "protect", "child"]);
    assert.equal(p.protected, true);
    for (const args of [
      ["branch", "reset", "child"],
      ["branch", "reset", "child", "--to-parent"],
      ["-y", "branch", "delete", "child"],
      // The whole subtree is checked first: feat is not deleted either.
      ["-y", "branch", "delete", "feat", "--recursive"],
    ]) {
      const r = await bough(home, ["--json", ...args]);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(JSON.parse(r.stdout).error.code, "BRANCH_PROTECTED");
      assert.match(r.stderr, /"child" is protected/);
      assert.match(r.stderr, /bough branch unprotect child/);
    }
    const expiring = await bough(home, ["branch", "set", "child", "--expires-in", "1h"]);
    assert.equal(expiring.code, 1);
    assert.match(expiring.stderr, /never expires/);

    const u = await boughJson<BranchJson>(home, ["branch", "unprotect", "child"]);
    assert.equal(u.protected, false);
    await boughJson(home, ["branch", "reset", "child"]);
  });

  test("merge into main works as before; into another protected branch it needs --allow-protected", async () => {
    const feat = await show("feat");
    await query(feat.connectionString, "CREATE TABLE extra (id int PRIMARY KEY)");
    await boughJson(home, ["branch", "merge", "feat"]);
    assert.equal((await rows(mainUrl, "SELECT to_regclass('extra')::text r"))[0].r, "extra");

    const child = await show("child");
    await query(child.connectionString, "CREATE TABLE kid (id int)");
    await boughJson(home, ["branch", "protect", "feat"]);
    const refused = await bough(home, ["-y", "branch", "merge", "child"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /"feat" is protected/);
    assert.match(refused.stderr, /--allow-protected/);
    await boughJson(home, ["branch", "merge", "child", "--allow-protected"]);
    assert.equal(
      (await rows(feat.connectionString, "SELECT to_regclass('kid')::text r"))[0].r,
      "kid",
    );
    await boughJson(home, ["branch", "unprotect", "feat"]);
  });

  test("rename keeps port, data and keys and moves the current branch; main cannot be renamed", async () => {
    const before = await show("child");
    const childKeys = await keys("child");
    await boughJson(home, ["branch", "switch", "child"]);
    const renamed = await boughJson<BranchJson>(home, ["branch", "rename", "child", "kid-branch"]);
    assert.equal(renamed.port, before.port);
    const current = await boughJson<BranchJson>(home, ["branch", "show"]);
    assert.equal(current.name, "kid-branch");
    assert.equal(
      (await rows(renamed.connectionString, "SELECT count(*)::int n FROM notes"))[0].n,
      2,
    );
    const k = await keys("kid-branch");
    assert.equal(k.secretKey, childKeys.secretKey);
    assert.match(k.apiUrl, /\/b\/kid-branch$/);
    // Its cluster still stops and starts from the same directories.
    await boughJson(home, ["branch", "stop", "kid-branch"]);
    await boughJson(home, ["branch", "start", "kid-branch"]);
    assert.equal((await rows(renamed.connectionString, "SELECT 1 AS x"))[0].x, 1);
    for (const [from, to, re] of [
      ["main", "trunk", /root branch/],
      ["kid-branch", "feat", /already exists/],
    ]) {
      const r = await bough(home, ["branch", "rename", from as string, to as string]);
      assert.equal(r.code === 0, false);
      assert.match(r.stderr, re as RegExp);
    }
  });

  test("expiry without a server: the next command deletes the branch, audited as expiry", async () => {
    const b = await boughJson<BranchJson>(home, [
      "branch",
      "create",
      "scratch-cli",
      "--expires-in",
      "2s",
      "--no-switch",
    ]);
    assert.ok(b.expiresAt);
    await sleep(Math.max(0, Date.parse(b.expiresAt) - Date.now()) + 50);
    const later = await boughJson<BranchJson[]>(home, ["branch", "list"]);
    assert.equal(
      later.some((x) => x.name === "scratch-cli"),
      false,
    );
    const row = (await audit("scratch-cli")).find((r) => r.action === "branch.expire");
    assert.equal(row?.result, "ok");
    assert.deepEqual(row?.actor, { kind: "expiry", name: "cli", client: null });
  });

  test("with bough up: the branch's own keys only, and the server deletes expired branches", async () => {
    up = await startUp(home, ["--port", String(await freePort())]);
    const feat = await keys("feat");
    const main = await keys("main");
    const rest = (key: string) =>
      fetch(`${feat.apiUrl}/rest/v1/notes?select=id`, {
        headers: { apikey: key, authorization: `Bearer ${key}` },
      });
    assert.equal((await rest(feat.secretKey)).status, 200);
    assert.equal((await rest(main.secretKey)).status, 401, "the parent's key is refused");

    const b = await boughJson<BranchJson>(home, [
      "branch",
      "create",
      "scratch-srv",
      "--expires-in",
      "3s",
      "--no-switch",
    ]);
    // Polled over HTTP (a CLI command would delete it itself): 401 without a key while it
    // exists, 404 once the server deleted it.
    const url = `${feat.apiUrl.replace(/\/b\/feat$/, "/b/scratch-srv")}/rest/v1/notes`;
    let status = 0;
    for (let i = 0; i < 150 && status !== 404; i++) {
      if (i > 0) await sleep(200);
      status = (await fetch(url)).status;
    }
    assert.equal(status, 404, `still served after its expiry ${b.expiresAt}`);
    // 404 from the moment the deletion starts; its audit row is written when it ends.
    let row: AuditEntry | undefined;
    for (let i = 0; i < 60 && !row; i++) {
      if (i > 0) await sleep(500);
      row = (await audit("scratch-srv")).find((r) => r.action === "branch.expire");
    }
    assert.equal(row?.result, "ok");
    assert.deepEqual(row?.actor, { kind: "expiry", name: "server", client: null });
  });
});
