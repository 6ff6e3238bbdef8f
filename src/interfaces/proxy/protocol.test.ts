import assert from "node:assert/strict";
import { test } from "node:test";
import {
  backendScanner,
  encodeStartup,
  errorResponse,
  parseFirstPacket,
  readPacket,
  splitOptions,
} from "./protocol.ts";
import { rewriteStartup } from "./server.ts";

const int32 = (...ns: number[]) => {
  const b = Buffer.alloc(4 * ns.length);
  for (const [i, n] of ns.entries()) b.writeInt32BE(n, 4 * i);
  return b;
};

test("startup packets: read whole, parsed, encoded back byte for byte", () => {
  const params: [string, string][] = [
    ["user", "postgres.feat"],
    ["database", "app"],
    ["application_name", "psql"],
  ];
  const packet = encodeStartup(196608, params);
  assert.equal(readPacket(packet.subarray(0, 10)), null, "incomplete");
  const read = readPacket(Buffer.concat([packet, Buffer.from("Qrest")]));
  assert.ok(read);
  assert.equal(read.rest.toString(), "Qrest");
  assert.deepEqual(parseFirstPacket(read.packet), { kind: "startup", version: 196608, params });
  assert.deepEqual(parseFirstPacket(int32(8, 80877103)), { kind: "ssl" });
  assert.deepEqual(parseFirstPacket(int32(8, 80877104)), { kind: "gssenc" });
  const cancel = parseFirstPacket(int32(16, 80877102, 4242, 99));
  assert.equal(cancel.kind, "cancel");
  assert.equal(cancel.kind === "cancel" && cancel.key.toString("hex"), "0000109200000063");
  assert.equal(parseFirstPacket(int32(8, 2 << 16)).kind, "invalid");
  assert.equal(readPacket(int32(1_000_000))?.packet.length, 4, "oversized: refused");
});

test("options: bough settings come out, the rest goes on escaped", () => {
  const r = splitOptions("-c bough.branch=feat --bough.project=other -csearch_path=a\\ b -c x=1");
  assert.deepEqual(
    [...r.bough],
    [
      ["branch", "feat"],
      ["project", "other"],
    ],
  );
  assert.equal(r.rest, "-csearch_path=a\\ b -c x=1");
  assert.equal(splitOptions("-cbough.branch=x").rest, "");
});

test("rewriteStartup: user suffix or options pick the target; the server sees the plain role", () => {
  const r = rewriteStartup([
    ["user", "app.feat.shop"],
    ["database", "d"],
  ]);
  assert.deepEqual(r.target, { role: "app", branch: "feat", project: "shop" });
  assert.deepEqual(r.startup, [
    ["user", "app"],
    ["database", "d"],
  ]);
  const o = rewriteStartup([
    ["user", "my.role"],
    ["options", "-c bough.branch=feat -c work_mem=64MB"],
  ]);
  assert.deepEqual(o.target, { role: "my.role", branch: "feat", project: null });
  assert.deepEqual(o.startup, [
    ["user", "my.role"],
    ["options", "-c work_mem=64MB"],
  ]);
  assert.deepEqual(rewriteStartup([["user", "postgres"]]).target, {
    role: "postgres",
    branch: null,
    project: null,
  });
  assert.throws(() => rewriteStartup([["database", "d"]]), /no PostgreSQL user name/);
});

test("ErrorResponse fields and the backend scanner's cancel key", () => {
  const e = errorResponse({ code: "3D000", message: "no such branch", hint: "list them" });
  assert.equal(e.toString("latin1", 0, 1), "E");
  assert.equal(e.readInt32BE(1), e.length - 1);
  assert.equal(e.subarray(5).toString(), "SFATAL\0VFATAL\0C3D000\0Mno such branch\0Hlist them\0\0");
  const msg = (type: string, body: Buffer) =>
    Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
  const stream = Buffer.concat([
    msg("R", int32(0)),
    msg("S", Buffer.from("a\0b\0")),
    msg("K", int32(7, 8)),
    msg("Z", Buffer.from("I")),
  ]);
  const scan = backendScanner();
  // Split mid-message: the scanner keeps what it has not seen whole.
  assert.deepEqual(scan(stream.subarray(0, 20)), { key: null, ready: false });
  const r = scan(stream.subarray(20));
  assert.equal(r.ready, true);
  assert.equal(r.key?.toString("hex"), "0000000700000008");
});
