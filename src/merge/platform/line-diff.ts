/** Lines added and removed between two texts, as a shortest line edit script counts them. */
export interface LineCounts {
  added: number;
  removed: number;
}

/** A text's lines; a final newline ends the last line rather than starting an empty one. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Myers' O((N+M)·D) shortest edit script over lines, counting only: with D edits
 * between N and M lines, D = added + removed and N − M = removed − added. The common
 * head and tail are trimmed first, so a small edit to a long file costs little.
 *
 * @example lineDiff("a\nb\n", "a\nc\nd\n") // { added: 2, removed: 1 }
 */
export function lineDiff(before: string, after: string): LineCounts {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const ids = new Map<string, number>();
  const intern = (lines: string[]) =>
    Int32Array.from(lines, (l) => {
      let id = ids.get(l);
      if (id === undefined) {
        id = ids.size;
        ids.set(l, id);
      }
      return id;
    });
  const x = intern(a.slice(head, a.length - tail));
  const y = intern(b.slice(head, b.length - tail));
  const d = editDistance(x, y);
  return { added: (d - x.length + y.length) / 2, removed: (d + x.length - y.length) / 2 };
}

/** Length of the shortest insert/delete script turning a into b (Myers 1986, forward pass). */
function editDistance(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  if (n === 0 || m === 0) return max;
  // v[k + max]: the furthest x reached on diagonal k (= x − y) with the current d.
  const v = new Int32Array(2 * max + 2);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[max + k - 1] < v[max + k + 1])
          ? v[max + k + 1]
          : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) return d;
    }
  }
  return max;
}
