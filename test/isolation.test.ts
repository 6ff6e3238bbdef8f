import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { deleteBranch } from "../src/branches/delete.ts";
import { mergeBranch } from "../src/branches/merge.ts";
import { migrateApplySql } from "../src/branches/migrate.ts";
import { resetBranch } from "../src/branches/reset.ts";
import { isRoot } from "../src/clusters/os-user.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

// As root every branch's cluster runs as an OS user of its own: its superuser (what its
// connection string logs in as) reaches its own files and nothing of its parent's.
const P = "iso";
const ROOT_ONLY = { skip: !isRoot() && "isolation between branches needs root" };
let t: TestHome;
let main: { dir: string; data: string; t0: string };
let feat: string;

before(async () => {
  if (!isRoot()) return;
  t = await testHome();
  const mainUrl = await t.project(P);
  await query(mainUrl, "CREATE TABLE secret (v text); INSERT INTO secret VALUES ('main-only')");
  feat = await t.branch(P, "feat");
  main = t.dirs(P, "main");
});

after(async () => {
  await t?.dispose();
});

const userOf = (dir: string) => execFileSync("id", ["-nu", String(statSync(dir).uid)]).toString();
const userExists = (name: string) => {
  try {
    execFileSync("getent", ["passwd", name]);
    return true;
  } catch {
    return false;
  }
};

/** What a shell line run by the branch's server prints, errors included. */
async function shellOnBranch(url: string, line: string): Promise<string> {
  const r = (await query(
    url,
    `CREATE TEMP TABLE out (line text);
     COPY out FROM PROGRAM '{ ${line}; } 2>&1; true';
     SELECT string_agg(line, E'\\n') AS text FROM out`,
  )) as unknown as { rows: { text: string }[] }[];
  return r.at(-1)?.rows[0]?.text ?? "";
}

test("a branch's superuser cannot read main's data directory", ROOT_ONLY, async () => {
  assert.notEqual(userOf(t.dirs(P, "feat").data), userOf(main.data));
  assert.equal(statSync(t.dirs(P, "feat").data).mode & 0o777, 0o700);
  // Its own files it reads: the program runs, and only the other cluster's files are closed.
  const own = join(t.dirs(P, "feat").data, "PG_VERSION");
  assert.match(await shellOnBranch(feat, `cat ${own}`), /^\d+$/);
  assert.match(
    await shellOnBranch(feat, `cat ${join(main.data, "PG_VERSION")}`),
    /Permission denied/,
  );
  await assert.rejects(
    query(feat, `COPY (SELECT '') TO PROGRAM 'cat ${join(main.data, "PG_VERSION")}'`),
    /program .* failed/,
  );
  await assert.rejects(
    query(feat, `SELECT pg_read_file('${join(main.data, "PG_VERSION")}')`),
    /Permission denied/,
  );
  await assert.rejects(
    query(feat, `SELECT pg_ls_dir('${join(main.dir, "wal-archive")}')`),
    /Permission denied/,
  );
});

test("a branch's superuser cannot write into main's directories", ROOT_ONLY, async () => {
  for (const dir of [main.data, join(main.dir, "wal-archive")]) {
    await assert.rejects(
      query(feat, `COPY (SELECT 'x') TO '${join(dir, "planted")}'`),
      /Permission denied/,
    );
  }
  const out = await shellOnBranch(feat, `touch ${join(main.data, "planted")}`);
  assert.match(out, /Permission denied/);
});

test("a sibling's files are closed too; the branch's own log is its own", ROOT_ONLY, async () => {
  const other = await t.branch(P, "other");
  const dirs = t.dirs(P, "other");
  assert.match(
    await shellOnBranch(feat, `cat ${join(dirs.t0, "PG_VERSION")}`),
    /Permission denied/,
  );
  assert.match(
    await shellOnBranch(feat, `cat ${join(dirs.dir, "postgres.log")}`),
    /Permission denied/,
  );
  assert.equal(userOf(join(dirs.dir, "postgres.log")), userOf(dirs.data));
  await query(other, "SELECT 1");
});

test("a migration replayed in a dry run cannot read main's files", ROOT_ONLY, async () => {
  const own = t.dirs(P, "feat").data;
  // On the branch itself it reads nothing; replayed on the clone of main it tries main's file.
  const sql = `DO $$ BEGIN
    IF current_setting('data_directory') <> '${own}' THEN
      EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat ${join(main.data, "PG_VERSION")} >/dev/null');
    END IF;
  END $$;
  CREATE TABLE replayed (id int);`;
  await migrateApplySql(t.ctx, { project: P, branch: "feat", name: "001_probe.sql", sql });
  await assert.rejects(
    mergeBranch(t.ctx, { project: P, name: "feat", dryRun: true }),
    /001_probe\.sql does not apply[\s\S]*program .* failed/,
  );
});

test(
  "what a dry run replays on a clone of main reaches no network and no shared file",
  ROOT_ONLY,
  async () => {
    const probeUrl = await t.branch(P, "probe");
    const own = t.dirs(P, "probe").data;
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const leak = join(tmpdir(), `bough-leak-${process.pid}`);
    // The home is the cluster users' group's: every cluster may run the probe.
    const probe = join(t.home, "probe.cjs");
    writeFileSync(
      probe,
      `const s = require("node:net").connect(${port}, "127.0.0.1");
     s.on("connect", () => { console.log("connected"); s.destroy(); });
     s.on("error", (e) => console.log(e.code));`,
      { mode: 0o644 },
    );
    const line = `${process.execPath} ${probe}; umask 0; echo main-only > ${leak} || echo no-file`;
    try {
      // The probe works where nothing sandboxes it: on the branch's own cluster.
      assert.match(await shellOnBranch(probeUrl, line), /connected/);
      assert.equal(connections, 1);
      assert.equal(existsSync(leak), true);
      rmSync(leak);
      connections = 0;
      // Replayed on main's clone it reads main's secret and tries to send it out, and says what happened.
      const sql = `DO $$ DECLARE said text; BEGIN
      IF current_setting('data_directory') <> '${own}' THEN
        CREATE TEMP TABLE said (line text);
        EXECUTE format('COPY said FROM PROGRAM %L', '{ ${line}; } 2>&1; true');
        SELECT string_agg(line, ' ') INTO said FROM said;
        RAISE EXCEPTION 'probe said: % (secret %)', said, (SELECT v FROM secret);
      END IF;
    END $$;`;
      await migrateApplySql(t.ctx, {
        project: P,
        branch: "probe",
        name: "001_exfiltrate.sql",
        sql,
      });
      await assert.rejects(
        mergeBranch(t.ctx, { project: P, name: "probe", dryRun: true }),
        /probe said: (ENETUNREACH|ECONNREFUSED|EACCES)\b.*(Read-only file system|no-file)?.*\(secret main-only\)/,
      );
      assert.equal(connections, 0, "nothing reached the network from the clone");
      assert.equal(existsSync(leak), false, "nothing the clone wrote is visible outside it");
    } finally {
      server.close();
      rmSync(leak, { force: true });
    }
  },
);

test(
  "the isolated branch still resets, merges and is deleted with its user",
  ROOT_ONLY,
  async () => {
    const b = await t.branch(P, "work");
    const user = userOf(t.dirs(P, "work").data).trim();
    assert.match(user, /^bough-[0-9a-f]{6}-b\d+$/);
    await query(b, "CREATE TABLE gone (id int)");
    await resetBranch(t.ctx, { project: P, name: "work" });
    assert.equal(userOf(t.dirs(P, "work").data).trim(), user);
    await query(b, "CREATE TABLE kept (id int)");
    const merged = await mergeBranch(t.ctx, { project: P, name: "work" });
    assert.equal(merged.blocked, false);
    const [r] = await rows<{ r: string | null }>(
      t.url(P, "main"),
      "SELECT to_regclass('kept') AS r",
    );
    assert.equal(r.r, "kept");
    // A file it leaves where anyone may write would pass to the next user given its uid.
    const left = join(tmpdir(), `bough-left-${process.pid}`);
    await shellOnBranch(b, `umask 0; echo mine > ${left}`);
    assert.equal(existsSync(left), true);
    await deleteBranch(t.ctx, { project: P, name: "work" });
    assert.equal(userExists(user), false, "the branch's OS user is removed with it");
    assert.equal(existsSync(left), false, "and so are its files in /tmp");
  },
);
