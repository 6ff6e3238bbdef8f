import { BoughError } from "../../../core/errors.ts";
import type { CommentObject } from "../../catalog/snapshot.ts";
import { classWord, lit, objectRef } from "./refs.ts";
import { type Converter, type SqlContext, step } from "./step.ts";

function commentOn(c: CommentObject, text: string | null, ctx: SqlContext): string {
  const target = ctx.lookup(c.target);
  if (!target)
    throw new BoughError(
      "INTERNAL",
      `comment ${c.id} names an object not in the snapshot`,
      "report this as a bug",
    );
  return `COMMENT ON ${classWord(target)} ${objectRef(target)} IS ${text === null ? "NULL" : lit(text)};`;
}

export const commentSql: Converter<CommentObject> = {
  create: (c, ctx) => [step(commentOn(c, c.text, ctx))],
  drop: (c, ctx) => [step(commentOn(c, null, ctx))],
  alter: (_before, after, ctx) => [step(commentOn(after, after.text, ctx))],
  impact: () => "in-place",
};
