import assert from "node:assert/strict";
import { test } from "node:test";
import { lineDiff, splitLines } from "./line-diff.ts";

test("splitLines: a final newline ends the last line, an empty text has none", () => {
  assert.deepEqual(splitLines(""), []);
  assert.deepEqual(splitLines("a\nb\n"), ["a", "b"]);
  assert.deepEqual(splitLines("a\n\nb"), ["a", "", "b"]);
});

test("lineDiff counts a shortest edit script's added and removed lines", () => {
  assert.deepEqual(lineDiff("a\nb\nc\n", "a\nb\nc\n"), { added: 0, removed: 0 });
  assert.deepEqual(lineDiff("", "a\nb\n"), { added: 2, removed: 0 });
  assert.deepEqual(lineDiff("a\nb\n", ""), { added: 0, removed: 2 });
  assert.deepEqual(lineDiff("a\nb\nc\n", "a\nx\nc\n"), { added: 1, removed: 1 });
  // A moved line is one removal and one addition, not a rewrite of everything between.
  assert.deepEqual(lineDiff("1\n2\n3\n4\n5\n", "2\n3\n4\n5\n1\n"), { added: 1, removed: 1 });
  assert.deepEqual(lineDiff("a\nb\nc\nd\n", "a\nc\nd\ne\nf\n"), { added: 2, removed: 1 });
});

/** Reference: added/removed from the longest common subsequence, by dynamic programming. */
function lcsCounts(a: string[], b: string[]) {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  return { added: b.length - t[0][0], removed: a.length - t[0][0] };
}

test("lineDiff agrees with a longest-common-subsequence count on random texts", () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let run = 0; run < 300; run++) {
    const a = Array.from({ length: rand(30) }, () => "abcd"[rand(4)]);
    const b = Array.from({ length: rand(30) }, () => "abcd"[rand(4)]);
    const text = (l: string[]) => l.map((x) => `${x}\n`).join("");
    assert.deepEqual(lineDiff(text(a), text(b)), lcsCounts(a, b), `${a.join("")} / ${b.join("")}`);
  }
});

test("lineDiff on a long file with a small edit", () => {
  const lines = Array.from({ length: 20000 }, (_, i) => `line ${i}`);
  const edited = [...lines];
  edited.splice(10000, 3, "new a", "new b");
  edited.push("tail");
  assert.deepEqual(lineDiff(lines.join("\n"), edited.join("\n")), { added: 3, removed: 3 });
});
