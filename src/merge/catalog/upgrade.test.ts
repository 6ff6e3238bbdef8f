import assert from "node:assert/strict";
import { test } from "node:test";
import { PUBLIC, role } from "../fixtures/builders.ts";
import { SNAPSHOT_VERSION } from "./snapshot.ts";
import { readSnapshot } from "./upgrade.ts";

/** A merge base as bough stored it with snapshot version 1 (ids unquoted, PUBLIC as a name). */
const V1 = {
  version: 1,
  serverVersion: 180000,
  policies: {},
  data: {},
  objects: {
    "schema:App": { kind: "schema", id: "schema:App", deps: [], name: "App" },
    "table:App.Orders": {
      kind: "table",
      id: "table:App.Orders",
      deps: ["schema:App"],
      schema: "App",
      name: "Orders",
      persistence: "p",
      partitionBy: null,
      partitionOf: null,
      inherits: [],
      rlsEnabled: true,
      rlsForced: false,
      options: [],
    },
    "table:App.lines": {
      kind: "table",
      id: "table:App.lines",
      deps: ["schema:App", "table:App.Orders"],
      schema: "App",
      name: "lines",
      persistence: "p",
      partitionBy: null,
      partitionOf: null,
      inherits: ["App.Orders"],
      rlsEnabled: false,
      rlsForced: false,
      options: [],
    },
    "column:App.Orders.id": {
      kind: "column",
      id: "column:App.Orders.id",
      deps: ["table:App.Orders"],
      schema: "App",
      table: "Orders",
      name: "id",
      position: 1,
      type: "integer",
      notNull: true,
      default: null,
      identity: null,
      generated: null,
      collation: null,
      inherited: false,
    },
    "sequence:App.s": {
      kind: "sequence",
      id: "sequence:App.s",
      deps: ["schema:App"],
      schema: "App",
      name: "s",
      dataType: "bigint",
      start: "1",
      increment: "1",
      min: "1",
      max: "9223372036854775807",
      cache: "1",
      cycle: false,
      ownedBy: "App.Orders.id",
    },
    "constraint:App.lines.fk": {
      kind: "constraint",
      id: "constraint:App.lines.fk",
      deps: ["table:App.lines", "table:App.Orders"],
      schema: "App",
      table: "lines",
      name: "fk",
      type: "f",
      definition: 'FOREIGN KEY (id) REFERENCES "App"."Orders"(id)',
      references: "App.Orders",
      inherited: false,
    },
    "policy:App.Orders.p": {
      kind: "policy",
      id: "policy:App.Orders.p",
      deps: ["table:App.Orders"],
      schema: "App",
      table: "Orders",
      name: "p",
      permissive: true,
      command: "ALL",
      roles: ["public", "PUBLIC"],
      using: "true",
      withCheck: null,
    },
    "grant:table:App.Orders:PUBLIC": {
      kind: "grant",
      id: "grant:table:App.Orders:PUBLIC",
      deps: ["table:App.Orders"],
      targetKind: "table",
      target: "table:App.Orders",
      grantee: "PUBLIC",
      privileges: ["SELECT"],
    },
    'grant:table:App.Orders:o"neil': {
      kind: "grant",
      id: 'grant:table:App.Orders:o"neil',
      deps: ["table:App.Orders"],
      targetKind: "table",
      target: "table:App.Orders",
      grantee: 'o"neil',
      privileges: ["INSERT"],
    },
    "comment:column:App.Orders.id": {
      kind: "comment",
      id: "comment:column:App.Orders.id",
      deps: ["column:App.Orders.id"],
      target: "column:App.Orders.id",
      text: "the key",
    },
  },
};

test("a version-1 merge base is read with version-2 ids, references and roles", () => {
  const s = readSnapshot(JSON.stringify(V1));
  assert.equal(s.version, SNAPSHOT_VERSION);
  assert.deepEqual(Object.keys(s.objects), [
    'column:"App"."Orders".id',
    'comment:column:"App"."Orders".id',
    'constraint:"App".lines.fk',
    'grant:table:"App"."Orders":"o""neil"',
    'grant:table:"App"."Orders":PUBLIC',
    'policy:"App"."Orders".p',
    'schema:"App"',
    'sequence:"App".s',
    'table:"App"."Orders"',
    'table:"App".lines',
  ]);
  const o = s.objects;
  assert.deepEqual(o['table:"App".lines'], {
    ...V1.objects["table:App.lines"],
    id: 'table:"App".lines',
    deps: ['schema:"App"', 'table:"App"."Orders"'],
    inherits: ['"App"."Orders"'],
  });
  const fk = o['constraint:"App".lines.fk'];
  assert.equal(fk.kind === "constraint" && fk.references, '"App"."Orders"');
  const seq = o['sequence:"App".s'];
  assert.equal(seq.kind === "sequence" && seq.ownedBy, '"App"."Orders".id');
  const pol = o['policy:"App"."Orders".p'];
  assert.deepEqual(pol.kind === "policy" && pol.roles, [role("PUBLIC"), PUBLIC]);
  const everyone = o['grant:table:"App"."Orders":PUBLIC'];
  assert.deepEqual(everyone.kind === "grant" && [everyone.target, everyone.grantee], [
    'table:"App"."Orders"',
    PUBLIC,
  ]);
  const oneil = o['grant:table:"App"."Orders":"o""neil"'];
  assert.deepEqual(oneil.kind === "grant" && oneil.grantee, role('o"neil'));
  const c = o['comment:column:"App"."Orders".id'];
  assert.deepEqual(
    [c.deps, c.kind === "comment" && c.target],
    [['column:"App"."Orders".id'], 'column:"App"."Orders".id'],
  );
});

test("a current snapshot is read as it is; an unknown version is refused", () => {
  const current = { ...V1, version: SNAPSHOT_VERSION, objects: {} };
  assert.deepEqual(readSnapshot(JSON.stringify(current)), current);
  assert.throws(() => readSnapshot(JSON.stringify({ ...V1, version: 99 })), /snapshot version 99/);
});
