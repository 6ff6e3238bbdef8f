import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "./duration.ts";

test("parseDuration reads units and never, refuses bare numbers", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("never"), 0);
  for (const bad of ["5", "0s", "-1m", "m", "5 minutes"]) {
    assert.throws(() => parseDuration(bad), /invalid duration/);
  }
});

test("formatDuration round-trips", () => {
  for (const t of ["500ms", "30s", "5m", "2h", "1d", "never", "90s"]) {
    assert.equal(formatDuration(parseDuration(t)), t);
  }
});
