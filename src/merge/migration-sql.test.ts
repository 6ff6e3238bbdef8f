import assert from "node:assert/strict";
import { test } from "node:test";
import type { BoughError } from "../core/errors.ts";
import { executableSql } from "./migration-sql.ts";

const run = (sql: string) => executableSql({ name: "m.sql", sql });
const refused = async (sql: string, pattern: RegExp) => {
  await assert.rejects(run(sql), (err: BoughError) => {
    assert.equal(err.code, "MIGRATION_REFUSED");
    assert.match(err.message, pattern);
    return true;
  });
};

test("plain SQL runs as written", async () => {
  const sql = "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1)";
  assert.equal(await run(sql), sql);
});

test("one outer BEGIN … COMMIT is dropped, keeping everything between", async () => {
  assert.equal(
    await run("-- up\nBEGIN;\nCREATE TABLE é (x int); -- note\nSELECT 'COMMIT;';\nCOMMIT;\n"),
    "CREATE TABLE é (x int); -- note\nSELECT 'COMMIT;'",
  );
  assert.equal(
    await run("start transaction; create table a (x int); end"),
    "create table a (x int)",
  );
  assert.equal(await run("BEGIN; COMMIT;"), "");
});

test("any other transaction control is refused with its line", async () => {
  await refused(
    "CREATE TABLE a (x int);\nCOMMIT;",
    /controls the transaction itself at line 2: COMMIT/,
  );
  await refused(
    "BEGIN; CREATE TABLE a (x int); COMMIT; CREATE TABLE b (x int);",
    /not a plain BEGIN/,
  );
  await refused("BEGIN; SAVEPOINT s; CREATE TABLE a (x int); COMMIT;", /line 1: SAVEPOINT s/);
  await refused("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; COMMIT;", /not a plain BEGIN/);
  await refused("BEGIN; SELECT 1; COMMIT AND CHAIN;", /not a plain BEGIN/);
  await refused("BEGIN; SELECT 1; ROLLBACK;", /not a plain BEGIN/);
  await refused("SELECT 1; PREPARE TRANSACTION 'x'", /controls the transaction/);
  await refused("BEGIN; BEGIN; SELECT 1; COMMIT; COMMIT;", /controls the transaction/);
});

test("statements that cannot run in a transaction block are refused", async () => {
  await refused("CREATE INDEX CONCURRENTLY i ON t (x)", /CREATE INDEX CONCURRENTLY/);
  await refused("DROP INDEX CONCURRENTLY i", /DROP INDEX CONCURRENTLY/);
  await refused("REINDEX TABLE CONCURRENTLY t", /REINDEX CONCURRENTLY/);
  await refused("VACUUM t", /VACUUM/);
  await refused("CREATE DATABASE d", /CREATE DATABASE/);
  await refused("ALTER SYSTEM SET work_mem = '1MB'", /ALTER SYSTEM/);
  await refused("CREATE TABLESPACE s LOCATION '/x'", /CREATE TABLESPACE/);
  await refused("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", /DETACH PARTITION/);
  // what can run in a transaction stays allowed
  for (const ok of [
    "CREATE INDEX i ON t (x)",
    "ANALYZE t",
    "REINDEX TABLE t",
    "CLUSTER t USING i",
  ]) {
    assert.equal(await run(ok), ok);
  }
});

test("invalid SQL is reported with its line", async () => {
  await assert.rejects(run("SELECT 1;\nCREAT TABLE x"), (err: BoughError) => {
    assert.equal(err.code, "MIGRATION_FAILED");
    assert.match(err.message, /syntax error at or near "CREAT" \(line 2\)/);
    return true;
  });
});
