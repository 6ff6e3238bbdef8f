import assert from "node:assert/strict";
import { test } from "node:test";
import { parseProxyUser, proxyUser } from "./names.ts";

test("proxy user names split at the first dot and round-trip", () => {
  assert.deepEqual(parseProxyUser("postgres"), { role: "postgres", branch: null, project: null });
  assert.deepEqual(parseProxyUser("postgres.feat-1"), {
    role: "postgres",
    branch: "feat-1",
    project: null,
  });
  const full = { role: "anon", branch: "main", project: "shop" };
  assert.deepEqual(parseProxyUser(proxyUser(full)), full);
  assert.equal(proxyUser({ role: "r", branch: null, project: "shop" }), "r.main.shop");
  for (const bad of ["a.b.c.d", "a..c", "a.Feat", "a.b."]) {
    assert.throws(() => parseProxyUser(bad), /user name|invalid branch|invalid project/, bad);
  }
});
