import assert from "node:assert/strict";
import { test } from "node:test";
import { skipInClone } from "./online-clone.ts";

test("skipInClone leaves out runtime state and WAL, keeps the directories", () => {
  const skipped = [
    ["postmaster.pid", false],
    ["postmaster.opts", false],
    ["pg_wal/000000010000000000000001", false],
    ["pg_wal/archive_status/000000010000000000000001.done", false],
    ["pg_replslot/slot1", true],
    ["pg_replslot/slot1/state", false],
    ["pg_stat_tmp/global.stat", false],
    ["pg_subtrans/0000", false],
    ["base/pgsql_tmp", true],
    ["base/5/pg_internal.init", false],
    ["pg_wal", false], // a symlink (initdb -X): never shared with the source
  ] as const;
  for (const [rel, isDir] of skipped) assert.equal(skipInClone(rel, isDir), true, rel);
  const kept = [
    ["pg_wal", true],
    ["pg_wal/archive_status", true],
    ["pg_replslot", true],
    ["base/5/16384", false],
    ["global/pg_control", false],
    ["postgresql.conf", false],
    ["postgresql.auto.conf", false],
    ["pg_xact/0000", false],
  ] as const;
  for (const [rel, isDir] of kept) assert.equal(skipInClone(rel, isDir), false, rel);
});
