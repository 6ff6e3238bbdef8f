import assert from "node:assert/strict";
import { test } from "node:test";
import type { BoughError } from "../core/errors.ts";
import { segmentNumber, walSegmentsBetween } from "./wal.ts";

const SEG = 16 << 20;

test("segment numbers cross the log boundary (256 segments of 16 MB per log)", () => {
  assert.equal(segmentNumber("0000000100000000000000FF", SEG), 255);
  assert.equal(segmentNumber("000000010000000100000000", SEG), 256);
});

test("walSegmentsBetween picks the range on the start's timeline, in order", () => {
  const names = [
    "000000010000000100000000",
    "0000000100000000000000FF",
    "0000000100000000000000FE",
    "000000010000000100000001", // recycled future segment: left out
    "000000020000000000000000", // other timeline
    "00000002.history",
    "archive_status",
  ];
  const range = {
    first: "0000000100000000000000FF",
    last: "000000010000000100000000",
    segmentSize: SEG,
  };
  assert.deepEqual(walSegmentsBetween(names, range), [
    "0000000100000000000000FF",
    "000000010000000100000000",
  ]);
});

test("a missing segment fails the clone instead of producing one that cannot recover", () => {
  const range = {
    first: "000000010000000000000003",
    last: "000000010000000000000005",
    segmentSize: SEG,
  };
  assert.throws(
    () => walSegmentsBetween(["000000010000000000000003", "000000010000000000000005"], range),
    (e: BoughError) => e.code === "CLONE_FAILED" && /found 2 of 3/.test(e.message),
  );
});
