import assert from "node:assert/strict";
import { test } from "node:test";
import { reachesOutside } from "./server-access.ts";

test("migration text that reaches outside the database is flagged", () => {
  for (const sql of [
    "COPY (SELECT 1) TO PROGRAM 'curl example.com'",
    "copy t from '/etc/passwd';",
    "SELECT pg_read_file('/var/lib/bough/x')",
    "select lo_export(1, '/tmp/x')",
    "ALTER SYSTEM SET archive_command = 'sh'",
    "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$",
    "CREATE FUNCTION f() RETURNS int AS 'evil.so' LANGUAGE c",
    "create extension if not exists dblink",
    "LOAD '/tmp/x.so'",
  ]) {
    assert.equal(reachesOutside(sql), true, sql);
  }
  for (const sql of [
    "CREATE TABLE copy_log (program text)",
    "COPY t FROM STDIN",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE EXTENSION pgcrypto",
  ]) {
    assert.equal(reachesOutside(sql), false, sql);
  }
});
