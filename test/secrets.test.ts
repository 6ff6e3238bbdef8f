import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { branchUrl } from "../src/branches/branch-cluster.ts";
import { type Ctx, openContext } from "../src/branches/context.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import { secretsAccess } from "../src/branches/secrets.ts";
import { withClient } from "../src/branches/sql.ts";
import { branchSecretEnv, MASKED_VALUE } from "../src/platform/secrets/store.ts";
import { bough, initialisedHome } from "./helpers/cli.ts";
import { query } from "./helpers/sql.ts";

interface Item {
  key: string;
  productionOnly: boolean;
  inherited: boolean;
  source: string;
  exposure: string;
}

// Distinct values, so finding one anywhere in an output is proof of a leak.
const value = (name: string) => `${name}-${randomBytes(8).toString("hex")}`;
const SHARED = value("shared");
const PROD = value("prod");
const OWN = value("own");
const ON_BRANCH = value("onbranch");
const ALL_VALUES = [SHARED, PROD, OWN, ON_BRANCH];

describe("secrets: encrypted, per-branch policy, never merged or shown", () => {
  let home: string;
  let remove: () => Promise<void>;
  let ctx: Ctx;
  let output = "";

  // Every CLI call goes through here, so the leak check sees all of it.
  const run = async (args: string[], input?: string) => {
    const r = await bough(home, args, { input });
    output += `${r.stdout}\n${r.stderr}\n`;
    return r;
  };
  const ok = async <T>(args: string[], input?: string): Promise<T> => {
    const r = await run(["--json", "-y", ...args], input);
    assert.equal(r.code, 0, `bough ${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const list = (branch: string) => ok<Item[]>(["secrets", "list", "--branch", branch]);
  const envOf = async (branch: string) => {
    const project = requireProject(ctx, "default");
    const b = requireBranch(ctx, project, branch);
    const access = secretsAccess(ctx, project, b);
    return withClient(branchUrl(project, b), (c) => branchSecretEnv(c, access.key, access.branch));
  };
  const urlOf = (branch: string) => {
    const project = requireProject(ctx, "default");
    return branchUrl(project, requireBranch(ctx, project, branch));
  };
  const idOf = (branch: string) => requireBranch(ctx, requireProject(ctx, "default"), branch).id;

  before(async () => {
    ({ home, remove } = await initialisedHome("SELECT 1"));
    ctx = await openContext({ home });
    await ok(["secrets", "set", "SHARED_KEY", "--value", SHARED, "--branch", "main"]);
    // From stdin, with the newline echo adds.
    await ok(["secrets", "set", "PROD_KEY", "--production-only", "--branch", "main"], `${PROD}\n`);
  });
  after(async () => {
    ctx?.close();
    await remove();
  });

  test("set, list and unset on main; names are checked; list never carries a value", async () => {
    const items = await list("main");
    assert.deepEqual(
      items.map((i) => [i.key, i.productionOnly, i.inherited, i.source, i.exposure]),
      [
        ["PROD_KEY", true, false, "main", "value"],
        ["SHARED_KEY", false, false, "main", "value"],
      ],
    );
    assert.deepEqual(await envOf("main"), { PROD_KEY: PROD, SHARED_KEY: SHARED });
    await ok(["secrets", "set", "TEMP", "--value", OWN, "--branch", "main"]);
    await ok(["secrets", "unset", "TEMP", "--branch", "main"]);
    assert.ok(!(await list("main")).some((i) => i.key === "TEMP"));
    const human = await run(["secrets", "list", "--branch", "main"]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /SHARED_KEY/);
    for (const bad of ["1ABC", "A-B", "SUPABASE_URL", "supabase_anon_key"]) {
      const r = await run(["secrets", "set", bad, "--value", OWN, "--branch", "main"]);
      assert.equal(r.code, 64, `${bad}: ${r.stderr}`);
    }
    const missing = await run(["secrets", "unset", "NOPE", "--branch", "main"]);
    assert.equal(missing.code, 64);
    const badPolicy = await run(["secrets", "policy", "share"]);
    assert.equal(badPolicy.code, 64);
  });

  test("a branch sees inherited secrets per the policy in force when it was created", async () => {
    assert.equal((await ok<{ policy: string }>(["secrets", "policy"])).policy, "copy");
    await ok(["branch", "create", "b-copy", "--no-switch"]);
    await ok(["secrets", "policy", "empty"]);
    await ok(["branch", "create", "b-empty", "--no-switch"]);
    await ok(["secrets", "policy", "mask"]);
    await ok(["branch", "create", "b-mask", "--no-switch"]);
    await ok(["secrets", "policy", "copy"]);

    // copy: the value; production-only: never.
    assert.deepEqual(
      (await list("b-copy")).map((i) => [i.key, i.inherited, i.source, i.exposure]),
      [["SHARED_KEY", true, "main", "value"]],
    );
    assert.deepEqual(await envOf("b-copy"), { SHARED_KEY: SHARED });
    // The later policy changes did not change b-copy, nor b-empty.
    assert.deepEqual(await list("b-empty"), []);
    assert.deepEqual(await envOf("b-empty"), {});
    assert.deepEqual(
      (await list("b-mask")).map((i) => [i.key, i.exposure]),
      [["SHARED_KEY", "masked"]],
    );
    assert.deepEqual(await envOf("b-mask"), { SHARED_KEY: MASKED_VALUE });

    // A branch's own secret, production-only or not, is its own.
    await ok(["secrets", "set", "OWN_KEY", "--value", OWN, "--branch", "b-empty"]);
    assert.deepEqual(await envOf("b-empty"), { OWN_KEY: OWN });
    assert.deepEqual(
      (await list("b-empty")).map((i) => [i.key, i.inherited, i.source]),
      [["OWN_KEY", false, "b-empty"]],
    );
    // A grandchild of a copy branch sees b-copy's own secret and main's shared one.
    await ok(["secrets", "set", "ON_BRANCH", "--value", ON_BRANCH, "--branch", "b-copy"]);
    await ok(["branch", "create", "b-grand", "--from", "b-copy", "--no-switch"]);
    assert.deepEqual(await envOf("b-grand"), { ON_BRANCH, SHARED_KEY: SHARED });
    assert.deepEqual(
      (await list("b-grand")).map((i) => [i.key, i.source]),
      [
        ["ON_BRANCH", "b-copy"],
        ["SHARED_KEY", "main"],
      ],
    );
  });

  test("a branch superuser who rewrites a row gets no value, only 'unreadable'", async () => {
    // Passing main's production-only value off as the branch's own, or unmarking it.
    await query(
      urlOf("b-empty"),
      "UPDATE secrets.secrets SET set_on_branch = $1 WHERE key = 'PROD_KEY'",
      [idOf("b-empty")],
    );
    await query(
      urlOf("b-copy"),
      "UPDATE secrets.secrets SET production_only = false WHERE key = 'PROD_KEY'",
    );
    // Swapping ciphertexts between keys.
    await query(
      urlOf("b-mask"),
      `UPDATE secrets.secrets SET value_encrypted = (SELECT value_encrypted FROM secrets.secrets WHERE key = 'PROD_KEY'),
         production_only = false WHERE key = 'SHARED_KEY'`,
    );
    assert.equal((await envOf("b-empty")).PROD_KEY, undefined);
    assert.equal((await envOf("b-copy")).PROD_KEY, undefined);
    assert.equal((await envOf("b-mask")).SHARED_KEY, undefined);
    const tampered = (await list("b-empty")).find((i) => i.key === "PROD_KEY");
    assert.equal(tampered?.exposure, "unreadable");
    assert.equal((await list("b-copy")).find((i) => i.key === "PROD_KEY")?.exposure, "unreadable");
  });

  test("reset brings a branch's secrets back to T0", async () => {
    await ok(["secrets", "unset", "SHARED_KEY", "--branch", "b-copy"]);
    assert.deepEqual(await envOf("b-copy"), { ON_BRANCH });
    await ok(["branch", "reset", "b-copy"]);
    assert.deepEqual(await envOf("b-copy"), { SHARED_KEY: SHARED });
    assert.deepEqual(
      (await list("b-copy")).map((i) => i.key),
      ["SHARED_KEY"],
      "the tampered PROD_KEY row is gone with the rest of the branch's work",
    );
  });

  test("a merge never carries secrets to the parent", async () => {
    await ok(["branch", "create", "b-merge", "--no-switch"]);
    await ok(["secrets", "set", "BRANCH_ONLY", "--value", ON_BRANCH, "--branch", "b-merge"]);
    await ok(["secrets", "set", "SHARED_KEY", "--value", OWN, "--branch", "b-merge"]);
    await run(["branch", "merge", "b-merge", "--dry-run"]);
    await ok(["branch", "merge", "b-merge"]);
    assert.deepEqual(await envOf("main"), { PROD_KEY: PROD, SHARED_KEY: SHARED });
  });

  test("no secret value appears in any CLI output or Postgres log", async () => {
    const logs: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (e === "postgres.log") logs.push(readFileSync(p, "utf8"));
      }
    };
    walk(join(home, "projects"));
    assert.ok(logs.length >= 5);
    for (const v of ALL_VALUES) {
      assert.ok(!output.includes(v), `a secret value is in the CLI output`);
      for (const log of logs) assert.ok(!log.includes(v), "a secret value is in a postgres.log");
    }
    // Not in the control plane either (the database stores ciphertexts only).
    const control = readFileSync(join(home, "control.db"));
    for (const v of ALL_VALUES) assert.ok(!control.includes(v));
  });
});
