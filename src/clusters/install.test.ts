import assert from "node:assert/strict";
import { test } from "node:test";
import type { BoughError } from "../core/errors.ts";
import { makePaths } from "../core/paths.ts";
import { parseVersion, resolveInstall } from "./install.ts";

test("parseVersion reads release, distribution and beta versions", () => {
  assert.equal(parseVersion("postgres (PostgreSQL) 18.4\n"), "18.4");
  assert.equal(parseVersion("postgres (PostgreSQL) 15.6 (Debian 15.6-0+deb12u1)"), "15.6");
  assert.equal(parseVersion("postgres (PostgreSQL) 19beta1"), "19beta1");
  assert.equal(parseVersion("something else"), null);
});

test("BOUGH_PG_BIN without the programs is an environment error with a hint", async () => {
  const saved = process.env.BOUGH_PG_BIN;
  process.env.BOUGH_PG_BIN = "/nonexistent/bin";
  try {
    await assert.rejects(resolveInstall(makePaths("/nonexistent/home")), (e: BoughError) => {
      assert.equal(e.code, "ENVIRONMENT");
      assert.match(e.hint, /BOUGH_PG_BIN/);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.BOUGH_PG_BIN;
    else process.env.BOUGH_PG_BIN = saved;
  }
});
