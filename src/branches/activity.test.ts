import assert from "node:assert/strict";
import { test } from "node:test";
import { createActivity } from "./activity.ts";

test("a branch is idle only with no open connection, from its last use", () => {
  const a = createActivity();
  const t = Date.now();
  assert.equal(a.idleForMs(1, t), 0, "first seen: the clock starts now");
  assert.equal(a.idleForMs(1, t + 1000), 1000);
  const release = a.acquire(1);
  const second = a.acquire(1);
  assert.equal(a.idleForMs(1, t + 60_000), 0, "open connections keep it busy");
  release();
  release();
  assert.equal(a.idleForMs(1, Date.now() + 60_000), 0, "one connection is still open");
  second();
  assert.ok(a.idleForMs(1, Date.now() + 5000) >= 5000);
  a.touch(2);
  assert.ok(a.idleForMs(2, Date.now() + 10) <= 10 + 5);
});
