import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import type { BoughError } from "../../core/errors.ts";
import {
  foreignKeyProblems,
  formatRule,
  hmacPads,
  type MaskColumn,
  parseRule,
  renderRule,
  ruleMisfit,
} from "./rules.ts";

const text: MaskColumn = {
  schema: "app",
  table: "people",
  column: "e-mail",
  typeSql: "text",
  baseType: "text",
  category: "S",
  isArray: false,
  maxLength: null,
  notNull: false,
  unique: false,
  generated: false,
};

test("rules parse to their canonical form", () => {
  for (const r of ["email", "name", "phone", "hash", "null"])
    assert.equal(formatRule(parseRule(r)), r);
  assert.deepEqual(parseRule(" fixed:'it''s' "), { kind: "fixed", value: "it's" });
  assert.equal(formatRule(parseRule("fixed:'it''s'")), "fixed:'it''s'");
  assert.deepEqual(parseRule("partial(2, '*', 3)"), {
    kind: "partial",
    prefix: 2,
    pad: "*",
    suffix: 3,
  });
  assert.equal(formatRule(parseRule("partial( 2 ,'*',3 )")), "partial(2,'*',3)");
  assert.deepEqual(parseRule("sql: upper({{value}})"), {
    kind: "sql",
    expression: "upper({{value}})",
  });
});

test("unknown and malformed rules are refused with the syntax", () => {
  for (const bad of [
    "mail",
    "fixed:x",
    "fixed:'a' 'b'",
    "partial(2,*,2)",
    "partial(2,'',2)",
    "sql:",
    "",
  ]) {
    assert.throws(
      () => parseRule(bad),
      (e: BoughError) => e.code === "INVALID_INPUT" && /email, name, phone/.test(e.hint),
      bad,
    );
  }
});

test("a rule must fit its column's type, length and constraints", () => {
  const int: MaskColumn = { ...text, typeSql: "integer", baseType: "int4", category: "N" };
  assert.match(
    ruleMisfit(parseRule("email"), int) ?? "",
    /app\.people\.e-mail is integer: email masks text/,
  );
  assert.match(ruleMisfit(parseRule("partial(1,'*',1)"), int) ?? "", /text columns only/);
  assert.equal(ruleMisfit(parseRule("fixed:'7'"), int), null);
  assert.match(ruleMisfit(parseRule("null"), { ...text, notNull: true }) ?? "", /NOT NULL/);
  assert.match(
    ruleMisfit(parseRule("email"), { ...text, maxLength: 20 }) ?? "",
    /up to 33 characters/,
  );
  assert.equal(ruleMisfit(parseRule("hash"), { ...text, maxLength: 20 }), null);
  assert.equal(ruleMisfit(parseRule("hash"), { ...text, baseType: "uuid", category: "U" }), null);
  assert.match(ruleMisfit(parseRule("fixed:'x'"), { ...text, unique: true }) ?? "", /repeat/);
  assert.match(ruleMisfit(parseRule("hash"), { ...text, generated: true }) ?? "", /generated/);
  assert.match(
    ruleMisfit(parseRule("email"), { ...text, isArray: true, category: "A" }) ?? "",
    /text columns/,
  );
});

test("rendered SQL quotes the column and escapes literals; the key is only ever $1/$2", () => {
  const sql = renderRule(parseRule("fixed:'o''brien'"), text);
  assert.equal(sql, `CASE WHEN "e-mail" IS NULL THEN NULL ELSE 'o''brien'::text END`);
  const email = renderRule(parseRule("email"), text);
  assert.match(
    email,
    /^'user_' \|\| left\(encode\(sha256\(\$2::bytea \|\| sha256\(\$1::bytea \|\| convert_to\(\("e-mail"\)::text/,
  );
  assert.equal(
    renderRule(parseRule("sql:coalesce({{value}}, 'none') || {{hash}}"), text).startsWith(
      `(coalesce("e-mail", 'none') || encode(`,
    ),
    true,
  );
  assert.match(renderRule(parseRule("partial(1,'''',1)"), text), /repeat\('''', /);
  assert.match(
    renderRule(parseRule("hash"), { ...text, baseType: "uuid" }),
    /left\(.*, 32\)::uuid$/,
  );
  assert.match(renderRule(parseRule("hash"), { ...text, maxLength: 20 }), /, 20\)$/);
});

test("the key pads make sha256 an HMAC (RFC 2104), as Node computes it", async () => {
  const key = Buffer.from(
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    "hex",
  );
  const [ipad, opad] = hmacPads(key);
  const { createHash } = await import("node:crypto");
  const inner = createHash("sha256")
    .update(Buffer.concat([ipad, Buffer.from("alice@example.com")]))
    .digest();
  const outer = createHash("sha256")
    .update(Buffer.concat([opad, inner]))
    .digest("hex");
  assert.equal(outer, createHmac("sha256", key).update("alice@example.com").digest("hex"));
});

test("foreign keys need the same rule on both sides", () => {
  const fk = {
    name: "orders_email_fkey",
    from: { schema: "app", table: "orders", column: "email" },
    to: { schema: "app", table: "people", column: "email" },
  };
  assert.deepEqual(
    foreignKeyProblems(
      new Map([
        ["app.people.email", "email"],
        ["app.orders.email", "email"],
      ]),
      [fk],
    ),
    [],
  );
  assert.deepEqual(foreignKeyProblems(new Map(), [fk]), []);
  assert.deepEqual(foreignKeyProblems(new Map([["app.people.email", "email"]]), [fk]), [
    "foreign key orders_email_fkey: app.orders.email is not masked but app.people.email is email",
  ]);
});
