import assert from "node:assert/strict";
import { test } from "node:test";
import { RestError, statusOfSqlState, toRestError } from "./errors.ts";
import { parseAccept, parsePrefer, parseRange } from "./parse-headers.ts";
import { parseQuery } from "./parse-query.ts";
import { parseSelect } from "./parse-select.ts";

const f = (name: string) => ({ name, json: [] });
const fails = (fn: () => unknown, code: string) =>
  assert.throws(fn, (e: unknown) => e instanceof RestError && e.code === code);

test("select: columns, aliases, casts, JSON paths, embeds with hints and !inner", () => {
  assert.deepEqual(parseSelect('*,n:name,id::text,"my col",meta->a->>0'), [
    { kind: "star" },
    { kind: "column", field: f("name"), alias: "n", cast: undefined },
    { kind: "column", field: f("id"), alias: undefined, cast: "text" },
    { kind: "column", field: f("my col"), alias: undefined, cast: undefined },
    {
      kind: "column",
      field: {
        name: "meta",
        json: [
          { arrow: "->", key: "a" },
          { arrow: "->>", key: "0" },
        ],
      },
      alias: undefined,
      cast: undefined,
    },
  ]);
  assert.deepEqual(parseSelect("id,author:users!author_id!inner(name),comments()"), [
    { kind: "column", field: f("id"), alias: undefined, cast: undefined },
    {
      kind: "embed",
      name: "users",
      alias: "author",
      hint: "author_id",
      inner: true,
      select: [{ kind: "column", field: f("name"), alias: undefined, cast: undefined }],
    },
    {
      kind: "embed",
      name: "comments",
      alias: undefined,
      hint: undefined,
      inner: false,
      select: [],
    },
  ]);
  for (const bad of [
    "id,",
    "a(",
    "a(b))",
    "x:",
    "...a(*)",
    '"open',
    "a!b!c(*)",
    "a\0b",
    "x".repeat(64),
  ]) {
    fails(() => parseSelect(bad), "PGRST100");
  }
});

test("filters: operators, not., lists with quotes, is, fts with a config, quantifiers, logic trees", () => {
  const q = parseQuery(
    new URLSearchParams([
      ["age", "not.gte.18"],
      ["name", 'in.(a,"b,c",d)'],
      ["x", "is.NULL"],
      ["body", "fts(english).cat & dog"],
      ["title", "like(any).{a*,*b}"],
      ["or", '(a.eq.1,and(b.gt.2,c.eq."x,y"),not.or(d.is.true))'],
      ["comments.order", "id.desc.nullslast,meta->>n"],
      ["comments.limit", "2"],
      ["comments.status", "eq.open"],
    ]),
  );
  assert.deepEqual(q.levels.get("")?.conditions, [
    {
      kind: "filter",
      field: f("age"),
      negate: true,
      op: "gte",
      value: { kind: "scalar", value: "18" },
    },
    {
      kind: "filter",
      field: f("name"),
      negate: false,
      op: "in",
      value: { kind: "list", values: ["a", "b,c", "d"] },
    },
    {
      kind: "filter",
      field: f("x"),
      negate: false,
      op: "is",
      value: { kind: "is", value: "null" },
    },
    {
      kind: "filter",
      field: f("body"),
      negate: false,
      op: "fts",
      value: { kind: "fts", config: "english", value: "cat & dog" },
    },
    {
      kind: "filter",
      field: f("title"),
      negate: false,
      op: "like",
      value: { kind: "list", values: ["a*", "*b"], quantifier: "any" },
    },
    {
      kind: "logic",
      op: "or",
      negate: false,
      children: [
        {
          kind: "filter",
          field: f("a"),
          negate: false,
          op: "eq",
          value: { kind: "scalar", value: "1" },
        },
        {
          kind: "logic",
          op: "and",
          negate: false,
          children: [
            {
              kind: "filter",
              field: f("b"),
              negate: false,
              op: "gt",
              value: { kind: "scalar", value: "2" },
            },
            {
              kind: "filter",
              field: f("c"),
              negate: false,
              op: "eq",
              value: { kind: "scalar", value: "x,y" },
            },
          ],
        },
        {
          kind: "logic",
          op: "or",
          negate: true,
          children: [
            {
              kind: "filter",
              field: f("d"),
              negate: false,
              op: "is",
              value: { kind: "is", value: "true" },
            },
          ],
        },
      ],
    },
  ]);
  assert.deepEqual(q.levels.get("comments"), {
    path: ["comments"],
    conditions: [
      {
        kind: "filter",
        field: f("status"),
        negate: false,
        op: "eq",
        value: { kind: "scalar", value: "open" },
      },
    ],
    order: [
      { field: f("id"), desc: true, nulls: "last" },
      { field: { name: "meta", json: [{ arrow: "->>", key: "n" }] }, desc: false },
    ],
    limit: 2,
  });
  // A plain filter's value is literal (quotes and all); like's * is %.
  const lit = parseQuery(new URLSearchParams('t=eq."q",(x)&u=ilike.*a*'));
  assert.deepEqual(
    lit.levels.get("")?.conditions.map((c) => c.kind === "filter" && c.value),
    [
      { kind: "scalar", value: '"q",(x)' },
      { kind: "scalar", value: "%a%" },
    ],
  );
  for (const bad of [
    "a=zz.1",
    "a=eq",
    "a=in.1,2",
    "a=is.maybe",
    "or=a.eq.1",
    "or=()",
    "or=(a.eq.1",
    "limit=-1",
    "order=a.up",
    "a..b=eq.1",
  ]) {
    fails(() => parseQuery(new URLSearchParams(bad)), "PGRST100");
  }
});

test("columns= and on_conflict= are name lists", () => {
  const q = parseQuery(new URLSearchParams('columns="a","b c"&on_conflict=a,b'));
  assert.deepEqual(q.columns, ["a", "b c"]);
  assert.deepEqual(q.onConflict, ["a", "b"]);
  fails(() => parseQuery(new URLSearchParams("on_conflict=a);drop")), "PGRST100");
});

test("headers: Prefer (one or several), Range, Accept", () => {
  assert.deepEqual(
    parsePrefer([
      "count=exact, return=representation",
      "missing=default,resolution=ignore-duplicates,x=y",
    ]),
    {
      singleObject: false,
      count: "exact",
      return: "representation",
      missing: "default",
      resolution: "ignore-duplicates",
    },
  );
  assert.deepEqual(parseRange("5-9"), { offset: 5, limit: 5 });
  assert.deepEqual(parseRange("items=5-"), { offset: 5 });
  assert.equal(parseRange(undefined), undefined);
  fails(() => parseRange("9-5"), "PGRST103");
  assert.deepEqual(parseAccept("application/vnd.pgrst.object+json;nulls=stripped"), {
    single: true,
    stripNulls: true,
  });
  assert.deepEqual(parseAccept("text/html, */*"), { single: false, stripNulls: false });
  fails(() => parseAccept("text/csv"), "PGRST107");
});

test("errors: SQLSTATE → status as PostgREST maps it; an unreachable database is a 503", () => {
  assert.deepEqual(
    ["23505", "23503", "42501", "42883", "42P01", "25006", "22P02", "P0001", "53300", "XX000"].map(
      (c) => statusOfSqlState(c, "authenticated"),
    ),
    [409, 409, 403, 404, 404, 405, 400, 400, 503, 500],
  );
  assert.equal(statusOfSqlState("42501", "anon"), 401);
  const down = toRestError(
    Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    "anon",
  );
  assert.deepEqual([down.status, down.code], [503, "PGRST001"]);
});
