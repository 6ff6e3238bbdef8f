import type { FunctionObject } from "../../catalog/snapshot.ts";
import { bare, classWord, functionRef } from "./refs.ts";
import { type Converter, step } from "./step.ts";

/** pg_get_functiondef is CREATE OR REPLACE already, so a changed body is replaced in place. */
export const functionSql: Converter<FunctionObject> = {
  create: (f) => [step(`${bare(f.definition)};`)],
  drop: (f) => [step(`DROP ${classWord(f)} ${functionRef(f)};`)],
  alter: (_before, after) => [step(`${bare(after.definition)};`)],
  // CREATE OR REPLACE cannot change the result type or turn a function into a procedure.
  impact: (before, after) =>
    before.returns !== after.returns || before.prokind !== after.prokind ? "recreate" : "in-place",
};
