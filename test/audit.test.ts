import assert from "node:assert/strict";
import { userInfo } from "node:os";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import type { AuditEntry } from "../src/control/audit.ts";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";

let env: Awaited<ReturnType<typeof initialisedHome>>;

before(async () => {
  env = await initialisedHome("CREATE TABLE t (id int primary key)");
});
after(async () => {
  await env?.remove();
});

test("each CLI action appends an audit row naming the OS user, result and duration", async () => {
  await boughJson(env.home, ["branch", "create", "feat"]);
  await boughJson(env.home, ["branch", "stop", "feat"]);
  await boughJson(env.home, ["branch", "start", "feat"]);
  await boughJson(env.home, ["branch", "keys", "feat", "--rotate"]);
  await boughJson(env.home, ["branch", "keys", "feat"]);
  await boughJson(env.home, ["branch", "merge", "feat", "--dry-run"]);
  await boughJson(env.home, ["branch", "reset", "feat"]);
  const refused = await bough(env.home, ["--json", "branch", "create", "feat"]);
  assert.notEqual(refused.code, 0);
  await boughJson(env.home, ["branch", "delete", "feat"]);

  const rows = await boughJson<AuditEntry[]>(env.home, ["audit", "--branch", "feat"]);
  assert.deepEqual(
    rows.map((r) => [r.action, r.result]),
    [
      ["branch.create", "ok"],
      ["branch.stop", "ok"],
      ["branch.start", "ok"],
      ["branch.keys.rotate", "ok"],
      ["branch.merge", "ok"],
      ["branch.reset", "ok"],
      ["branch.create", "BRANCH_EXISTS"],
      ["branch.delete", "ok"],
    ],
  );
  for (const r of rows) {
    assert.deepEqual(r.actor, { kind: "cli", name: userInfo().username, client: null });
    assert.equal(r.branch, "feat");
    assert.equal(r.project, "default");
    assert.ok(typeof r.durationMs === "number" && r.durationMs >= 0);
  }
  const { clonedBytes, ...createArgs } = rows[0].args;
  assert.deepEqual(createArgs, { from: "main", mode: "full", switchTo: true });
  assert.ok(typeof clonedBytes === "number" && clonedBytes > 0, "what the clone copied");
  assert.equal(rows[4].args.dryRun, true);
});

test("--since filters by time; a bad --since is refused", async () => {
  const all = await boughJson<AuditEntry[]>(env.home, ["audit"]);
  assert.ok(all.some((r) => r.action === "init"));
  assert.equal(
    (await boughJson<AuditEntry[]>(env.home, ["audit", "--since", "1h"])).length,
    all.length,
  );
  const future = new Date(Date.now() + 3_600_000).toISOString();
  assert.deepEqual(await boughJson<AuditEntry[]>(env.home, ["audit", "--since", future]), []);
  const bad = await bough(env.home, ["--json", "audit", "--since", "yesterday-ish"]);
  assert.equal(bad.code, 64);
  assert.equal(JSON.parse(bad.stdout).error.code, "INVALID_INPUT");
});

test("the audit table refuses updates and deletes", () => {
  const db = new Database(`${env.home}/control.db`);
  try {
    assert.throws(() => db.exec("DELETE FROM audit"), /append-only/);
    assert.throws(() => db.exec("UPDATE audit SET result = 'ok'"), /append-only/);
  } finally {
    db.close();
  }
});
