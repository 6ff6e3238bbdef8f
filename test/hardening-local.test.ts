import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, link, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { stopBranch } from "../src/branches/branch-cluster.ts";
import { createBranch } from "../src/branches/create.ts";
import { listBranchInfos } from "../src/branches/list.ts";
import { requireBranch, requireProject } from "../src/branches/lookup.ts";
import type { BoughError } from "../src/core/errors.ts";
import { bough, boughJson, tempHome } from "./helpers/cli.ts";
import { testHome } from "./helpers/project.ts";
import { testClusterCtx } from "./helpers/scratch-cluster.ts";
import { rows } from "./helpers/sql.ts";

const isRoot = process.getuid?.() === 0;
const ROOT_ONLY = "needs root: checks what another local user (nobody, bough) can do";

interface Ids {
  uid: number;
  gid: number;
}

function ids(user: string): Ids {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  assert.ok(line, `user ${user} exists`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Runs a program as another user (spawned with its uid/gid, no shell). */
function runAs(
  user: string | Ids,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const o = {
    ...(typeof user === "string" ? ids(user) : user),
    cwd: "/",
    encoding: "utf8" as const,
    env: { ...process.env, ...env },
  };
  return new Promise((resolve) => {
    execFile(cmd, args, o, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

// Run as nobody: walks the home and lists every file it can read that holds the password,
// and every process whose command line does (what `ps` shows any local user).
const NOBODY_LOOKS = `
const fs = require("node:fs"), path = require("node:path");
const home = process.argv[1], secret = process.env.SECRET;
const found = [], readable = [];
const walk = (p) => {
  let st; try { st = fs.lstatSync(p); } catch { return; }
  if (st.isDirectory()) { let es = []; try { es = fs.readdirSync(p); } catch { return; } for (const e of es) walk(path.join(p, e)); }
  else if (st.isFile()) { try { const b = fs.readFileSync(p); readable.push(p); if (b.includes(secret)) found.push(p); } catch {} }
};
walk(home);
for (const pid of fs.readdirSync("/proc").filter((e) => /^\\d+$/.test(e))) {
  try { if (fs.readFileSync("/proc/" + pid + "/cmdline").includes(secret)) found.push("cmdline of pid " + pid); } catch {}
}
const tried = {};
for (const f of ["control.db", "secrets/projects/default-1/postgres-password", "projects/default-1/branches/main-1/postgres.log"]) {
  try { fs.readFileSync(path.join(home, f)); tried[f] = "read"; } catch (e) { tried[f] = e.code; }
}
console.log(JSON.stringify({ found, readable, tried }));
`;

async function nobodyLooks(home: string, password: string) {
  // The password by environment: in argv the walker's own command line would hold it.
  const r = await runAs("nobody", process.execPath, ["-e", NOBODY_LOOKS, home], {
    SECRET: password,
  });
  assert.equal(r.code, 0, r.out);
  return JSON.parse(r.out) as {
    found: string[];
    readable: string[];
    tried: Record<string, string>;
  };
}

const mode = (p: string) => statSync(p).mode & 0o777;

function passwordOf(home: string): string {
  return readFileSync(join(home, "secrets/projects/default-1/postgres-password"), "utf8");
}

/** Every file under dir, as [path, bytes] for those up to maxBytes. */
function smallFiles(dir: string, maxBytes: number): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  const walk = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else if (st.isFile() && st.size <= maxBytes) out.push([p, readFileSync(p)]);
  };
  walk(dir);
  return out;
}

test("as nobody: control.db, secrets and logs are closed, no readable file or command line holds the password", async (t) => {
  if (!isRoot) return t.skip(ROOT_ONLY);
  const { home, remove } = await tempHome();
  try {
    await boughJson(home, ["init"]);
    await boughJson(home, ["branch", "create", "feature", "--no-switch"]);
    const password = passwordOf(home);
    const seen = await nobodyLooks(home, password);
    assert.deepEqual(seen.found, []);
    assert.deepEqual(seen.readable, []);
    assert.deepEqual(seen.tried, {
      "control.db": "EACCES",
      "secrets/projects/default-1/postgres-password": "EACCES",
      "projects/default-1/branches/main-1/postgres.log": "EACCES",
    });
    // Each file is closed on its own too, not only by the home's mode.
    const bough = ids("bough");
    assert.equal(mode(home), 0o750);
    assert.deepEqual([statSync(home).uid, statSync(home).gid], [0, bough.gid]);
    assert.equal(mode(join(home, "control.db")), 0o600);
    assert.equal(mode(join(home, "secrets")), 0o700);
    assert.equal(mode(join(home, "secrets/projects/default-1/postgres-password")), 0o600);
    for (const b of ["main-1", "feature-2"]) {
      assert.equal(mode(join(home, `projects/default-1/branches/${b}/postgres.log`)), 0o600);
    }
    const db = new Database(join(home, "control.db"), { readonly: true });
    const columns = db.prepare("SELECT name FROM pragma_table_info('projects')").all();
    db.close();
    // No password column: only these.
    assert.deepEqual(columns, [
      { name: "id" },
      { name: "name" },
      { name: "created_at" },
      { name: "secrets_policy" },
    ]);
  } finally {
    await remove();
  }
});

test("a home made by the old layout is tightened and its passwords move out of control.db", async (t) => {
  if (!isRoot) return t.skip(ROOT_ONLY);
  const { home, remove } = await tempHome();
  try {
    await boughJson(home, ["init"]);
    const password = passwordOf(home);
    // Back to what older versions left: password column, 0644 files, 0755 home, no secrets dir.
    const db = new Database(join(home, "control.db"));
    db.exec("ALTER TABLE projects ADD COLUMN password TEXT NOT NULL DEFAULT ''");
    db.prepare("UPDATE projects SET password = ?").run(password);
    // ... and none of the later control-plane columns either.
    for (const [table, column] of [
      ["operations", "pid_start"],
      ["operations", "boot_id"],
      ["operations", "attempts"],
      ["operations", "next_retry_at"],
      ["locks", "pid_start"],
      ["locks", "boot_id"],
      ["branches", "t0_fingerprint"],
      ["branches", "base_fingerprint"],
    ]) {
      db.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
    }
    db.exec("DROP TABLE id_sequences");
    // Later migrations again: secrets policy, admin keys, audit actor, protection and expiry (triggers first).
    db.exec(`DROP TRIGGER branches_secrets_policy; DROP TRIGGER audit_no_update;
      DROP TRIGGER audit_no_delete; DROP INDEX audit_at; DROP TABLE admin_keys;
      DROP TABLE merge_resolutions; DROP TABLE merges`);
    for (const [table, column] of [
      ["projects", "secrets_policy"],
      ["branches", "secrets_policy"],
      ["audit", "actor_kind"],
      ["audit", "actor_name"],
      ["audit", "actor_client"],
      ["audit", "result"],
      ["audit", "duration_ms"],
      // Masking, scale to zero.
      ["branches", "masked"],
      ["branches", "suspend_after_ms"],
      ["branches", "suspended_at"],
      // Protection, expiry, rename.
      ["branches", "protected"],
      ["branches", "expires_at"],
      ["branches", "dir_name"],
    ]) {
      db.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
    }
    db.pragma("user_version = 1");
    db.close();
    await rm(join(home, "secrets"), { recursive: true });
    await chmod(join(home, "control.db"), 0o644);
    await chmod(home, 0o755);
    await chmod(join(home, "projects/default-1/branches/main-1/postgres.log"), 0o644);
    assert.ok(readFileSync(join(home, "control.db")).includes(password));

    const main = await boughJson<{ connectionString: string; protected: boolean }>(home, [
      "branch",
      "show",
      "main",
    ]);
    assert.deepEqual(await rows(main.connectionString, "SELECT 1 AS one"), [{ one: 1 }]);
    assert.equal(main.protected, true, "the migration protects main");
    assert.equal(passwordOf(home), password);
    assert.equal(mode(join(home, "secrets/projects/default-1/postgres-password")), 0o600);
    for (const f of ["control.db", "control.db-wal", "control.db-shm"]) {
      const p = join(home, f);
      if (!existsSync(p)) continue;
      assert.equal(mode(p), 0o600, f);
      assert.equal(readFileSync(p).includes(password), false, `${f} still holds the password`);
    }
    assert.equal(mode(home), 0o750);
    assert.equal(mode(join(home, "projects/default-1/branches/main-1/postgres.log")), 0o600);
    assert.deepEqual((await nobodyLooks(home, password)).found, []);
  } finally {
    await remove();
  }
});

test("root never clones what a link points at: symlinks (pg_wal/*.history, in base/) and a foreign hard link are refused", async (t) => {
  if (!isRoot) return t.skip(ROOT_ONLY);
  const h = await testHome();
  const outside = await mkdtemp(join(tmpdir(), "bough-shadow-"));
  try {
    await h.project("p");
    const marker = `root-only secret ${Date.now()}`;
    const secret = join(outside, "shadow");
    await writeFile(secret, marker, { mode: 0o600 });
    const data = h.dirs("p", "main").data;
    // main's own OS user: the one whose superuser could plant these.
    const owner = { uid: statSync(data).uid, gid: statSync(data).gid };
    const baseDb = readdirSync(join(data, "base"))[0];
    const attacks: { name: string; plant: () => Promise<unknown>; path: string }[] = [
      {
        name: "wal-history",
        path: join(data, "pg_wal/00000099.history"),
        plant: () => runAs(owner, "ln", ["-s", secret, join(data, "pg_wal/00000099.history")]),
      },
      {
        name: "relation",
        path: join(data, "base", baseDb, "999999"),
        plant: () => runAs(owner, "ln", ["-s", secret, join(data, "base", baseDb, "999999")]),
      },
      {
        // protected_hardlinks stops bough from making this one; where it is off, it could.
        name: "hardlink",
        path: join(data, "base", baseDb, "999998"),
        plant: () => link(secret, join(data, "base", baseDb, "999998")),
      },
    ];
    for (const a of attacks) {
      await a.plant();
      assert.ok(existsSync(a.path), `${a.name} planted`);
      await assert.rejects(
        createBranch(h.ctx, { project: "p", name: a.name, switchTo: false }),
        (e: BoughError) => {
          assert.equal(e.code, "CLONE_FAILED");
          assert.match(e.message, new RegExp(`refusing to clone ${a.path.replaceAll(".", "\\.")}`));
          return true;
        },
      );
      await rm(a.path);
      const branchesDir = dirname(h.dirs("p", "main").dir);
      assert.deepEqual(
        readdirSync(branchesDir).filter((d) => d.startsWith(`${a.name}-`)),
        [],
      );
    }
    const leaked = smallFiles(h.home, 1 << 20).filter(([, b]) => b.includes(marker));
    assert.deepEqual(
      leaked.map(([p]) => p),
      [],
    );
    // With the links gone the same parent clones fine, data and T0.
    await createBranch(h.ctx, { project: "p", name: "clean", switchTo: false });
    assert.ok(existsSync(h.dirs("p", "clean").t0));
  } finally {
    await h.dispose();
    await rm(outside, { recursive: true, force: true });
  }
});

test("a home or BOUGH_PG_BIN with $(...), a backtick or a quote is refused before anything runs", async () => {
  const base = await mkdtemp(join(tmpdir(), "bough-inject-"));
  try {
    const marker = join(base, "ran");
    const homes = [
      join(base, `x-$(touch ${marker})`),
      join(base, `x-\`touch ${marker}\``),
      join(base, `x-"-$(touch ${marker})`),
    ];
    for (const home of homes) {
      const r = await bough(home, ["--json", "init"]);
      assert.equal(r.code, 64, r.stderr);
      assert.equal(JSON.parse(r.stdout).error.code, "INVALID_INPUT");
      assert.equal(existsSync(home), false, "the home was not even created");
    }
    // Real binaries behind a hostile name: initdb would run `"<bin>/postgres" -V` through sh.
    // No "/" in the name itself: the command finds the marker's path in the environment.
    const bin = join(base, "bin-$(touch $BOUGH_TEST_MARK)");
    await symlink((await testClusterCtx()).install.binDir, bin);
    const home = join(base, "home");
    const r = await bough(home, ["--json", "init"], {
      env: { BOUGH_PG_BIN: bin, BOUGH_TEST_MARK: marker },
    });
    assert.equal(r.code, 64, r.stderr);
    assert.equal(JSON.parse(r.stdout).error.code, "INVALID_INPUT");
    assert.match(JSON.parse(r.stdout).error.message, /BOUGH_PG_BIN/);
    assert.equal(existsSync(marker), false, "no injected command ran");
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test("Disk of a branch counts its T0 copy with the copy driver", async (t) => {
  const h = await testHome();
  try {
    if (h.ctx.driver.name !== "copy") return t.skip(`the home is on ${h.ctx.driver.reason}`);
    await h.project("p");
    await h.branch("p", "b");
    const p = requireProject(h.ctx, "p");
    await stopBranch(h.ctx, p, requireBranch(h.ctx, p, "b"));
    const branchDir = h.dirs("p", "b").dir;
    const du = await new Promise<number>((resolve, reject) =>
      execFile("du", ["-s", "-B1", branchDir], { encoding: "utf8" }, (err, out) =>
        err ? reject(err) : resolve(Number(out.split("\t")[0])),
      ),
    );
    const dataOnly = await new Promise<number>((resolve, reject) =>
      execFile("du", ["-s", "-B1", h.dirs("p", "b").data], { encoding: "utf8" }, (err, out) =>
        err ? reject(err) : resolve(Number(out.split("\t")[0])),
      ),
    );
    const listed = (await listBranchInfos(h.ctx, { project: "p" })).find((b) => b.name === "b");
    assert.equal(listed?.diskBytes, du);
    t.diagnostic(`branch ${du} bytes on disk, of which data ${dataOnly}`);
    assert.ok(du > 1.8 * dataOnly, `data + T0 are both real copies: ${du} vs ${dataOnly}`);
  } finally {
    await h.dispose();
  }
});
