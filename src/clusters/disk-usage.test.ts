import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { copyDriver } from "./clone-driver.ts";
import { exclusiveBytes, parseFilefrag } from "./disk-usage.ts";

const SAMPLE = `Filesystem type is: 58465342
File size of a is 1048576 (1048576 blocks of 1 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:        0..  524287:   12345678..  12869965: 524288:             shared
   1:   524288..  1048575:   22345678..  22869965: 524288:   12869966: last,eof
a: 2 extents found
File size of b is 8192 (8192 blocks of 1 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:        0..    8191:          0..         0:      0:             last,unknown_loc,delalloc,eof
b: 1 extent found
File size of c is 0 (0 blocks of 1 bytes)
c: 0 extents found
`;

test("parseFilefrag counts extents not flagged shared, delalloc ones by their logical range", () => {
  assert.equal(parseFilefrag(SAMPLE), 524288 + 8192);
  assert.equal(parseFilefrag("   0: garbage"), null);
});

test("exclusiveBytes with the copy driver counts every allocated block", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bough-du-"));
  try {
    await writeFile(join(dir, "f"), Buffer.alloc(1 << 20, 1));
    const bytes = await exclusiveBytes(dir, copyDriver("test"));
    assert.ok(bytes !== null && bytes >= 1 << 20, String(bytes));
    assert.equal(await exclusiveBytes(join(dir, "missing"), copyDriver("test")), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
