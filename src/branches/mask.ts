import { projectSecrets } from "../control/store.ts";
import { BoughError } from "../core/errors.ts";
import type { Project } from "../core/types.ts";
import { columnLabel, foreignKeyProblems, formatRule } from "../platform/mask/rules.ts";
import {
  checkMaskRule,
  foreignKeyColumns,
  listMaskRules,
  type StoredRule,
  setMaskRule,
  splitColumnName,
  unsetMaskRule,
} from "../platform/mask/store.ts";
import { audited } from "./audited.ts";
import { withPlatformClient } from "./branch-service.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { projectRandomKey } from "./secrets.ts";

/**
 * The project's masking key (HMAC-SHA256), a 0600 file beside its other secrets and never
 * in a database: a branch holds only fakes, and without the key it cannot hash candidate
 * values to find which one gave a fake.
 */
export function projectMaskKey(ctx: Ctx, project: Project): Buffer {
  return projectRandomKey(ctx, `${projectSecrets(project)}/mask-key`);
}

interface On {
  project: string;
  branch: string;
}

/** `bough mask list --json`: one entry per column. */
export interface MaskRuleItem {
  column: string;
  schema: string;
  table: string;
  columnName: string;
  rule: string;
}

const item = (r: StoredRule): MaskRuleItem => ({
  column: columnLabel(r),
  schema: r.schema,
  table: r.table,
  columnName: r.column,
  rule: r.rule,
});

async function maskSetNow(
  ctx: Ctx,
  o: On & { column: string; rule: string },
): Promise<MaskRuleItem & { branch: string; warnings: string[] }> {
  const at = splitColumnName(o.column);
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.branch);
    return withPlatformClient(ctx, project, branch, async (c) => {
      const { rule } = await checkMaskRule(c, at, o.rule);
      const stored = { ...at, rule: formatRule(rule) };
      await setMaskRule(c, stored);
      // Said now, refused at `branch create --mask`: the other side of a key needs the same rule.
      const rules = new Map((await listMaskRules(c)).map((r) => [columnLabel(r), r.rule]));
      const touching = (await foreignKeyColumns(c)).filter((fk) =>
        [columnLabel(fk.from), columnLabel(fk.to)].includes(columnLabel(at)),
      );
      return {
        ...item(stored),
        branch: branch.name,
        warnings: foreignKeyProblems(rules, touching),
      };
    });
  });
}

async function maskUnsetNow(
  ctx: Ctx,
  o: On & { column: string },
): Promise<{ column: string; branch: string }> {
  const at = splitColumnName(o.column);
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.branch);
    const removed = await withPlatformClient(ctx, project, branch, (c) => unsetMaskRule(c, at));
    if (!removed) {
      throw new BoughError(
        "INVALID_INPUT",
        `branch "${branch.name}" has no masking rule for ${columnLabel(at)}`,
        "run `bough mask list` to see its rules",
      );
    }
    return { column: columnLabel(at), branch: branch.name };
  });
}

/** Read-only: the rules a `branch create --mask` from this branch applies. */
export function maskList(ctx: Ctx, o: On): Promise<MaskRuleItem[]> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.branch);
    return (await withPlatformClient(ctx, project, branch, listMaskRules)).map(item);
  });
}

export const maskSet = audited("mask.set", maskSetNow);
export const maskUnset = audited("mask.unset", maskUnsetNow);
