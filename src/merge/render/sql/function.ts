import type { FunctionObject } from "../../catalog/snapshot.ts";
import { revokeDefaultPublic } from "./grant.ts";
import { bare, classWord, functionRef } from "./refs.ts";
import { type Converter, step } from "./step.ts";

/** pg_get_functiondef is CREATE OR REPLACE already, so a changed body is replaced in place. */
export const functionSql: Converter<FunctionObject> = {
  create: (f, ctx) => [step(`${bare(f.definition)};`), ...revokeDefaultPublic(f, ctx)],
  drop: (f) => [step(`DROP ${classWord(f)} ${functionRef(f)};`)],
  alter: (_before, after) => [step(`${bare(after.definition)};`)],
  // CREATE OR REPLACE cannot change the result type or turn a function into a procedure.
  impact: (before, after) =>
    before.returns !== after.returns || before.prokind !== after.prokind ? "recreate" : "in-place",
};
