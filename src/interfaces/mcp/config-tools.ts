import { z } from "zod";
import { maskList, maskSet, maskUnset } from "../../branches/mask.ts";
import { tablePolicyList, tablePolicySet } from "../../branches/table-policies.ts";
import { RULE_SYNTAX } from "../../platform/mask/rules.ts";
import { branch, project, type ToolKit } from "./tool.ts";

const column = z.string().describe("SCHEMA.TABLE.COLUMN, e.g. public.users.email");

/** Masking rules and table merge policies: config rows of a branch, merged like config. */
export function registerConfigTools({ tool, p }: ToolKit): void {
  tool(
    "set_mask_rule",
    `Set how a column is anonymized on branches created from this branch with create_branch mask: true. Rule: ${RULE_SYNTAX}. Checked against the column first. Set rules on a branch, then merge it: the rules are config and merge into the parent like a schema change. Both sides of a foreign key need the same rule (warnings name them).`,
    { project, branch, column, rule: z.string().describe(RULE_SYNTAX) },
    (c, a) =>
      maskSet(c, { project: p(a.project), branch: a.branch, column: a.column, rule: a.rule }),
  );
  tool(
    "list_mask_rules",
    "The masking rules of a branch: what create_branch with mask: true from it anonymizes (read-only).",
    { project, branch },
    async (c, a) => ({ rules: await maskList(c, { project: p(a.project), branch: a.branch }) }),
    { readOnlyHint: true },
  );
  tool(
    "unset_mask_rule",
    "Remove the masking rule of a column: branches created with mask: true then copy it in clear.",
    { project, branch, column },
    (c, a) => maskUnset(c, { project: p(a.project), branch: a.branch, column: a.column }),
  );
  tool(
    "set_table_policy",
    "Set how a table's rows merge (bough.table_policies): upsert (config rows by key columns), merge-rows (rows by primary key, cell by cell; a cell both sides changed is a conflict) or ignore (never merged). Without a policy a user table's rows are never merged, only its schema. exclude names columns never read, shown or merged (secrets). Set it on the branch, check with merge_branch dryRun.",
    {
      project,
      branch,
      table: z.string().describe("SCHEMA.TABLE (no schema: public)"),
      policy: z.enum(["upsert", "merge-rows", "ignore"]),
      key: z.array(z.string()).optional().describe("key columns for upsert"),
      exclude: z.array(z.string()).optional().describe("columns never merged"),
    },
    (c, a) =>
      tablePolicySet(c, {
        project: p(a.project),
        branch: a.branch,
        table: a.table,
        policy: a.policy,
        keyColumns: a.key,
        exclude: a.exclude,
      }),
  );
  tool(
    "list_table_policies",
    "Every registered table's merge policy on a branch (read-only).",
    { project, branch },
    async (c, a) => ({
      policies: await tablePolicyList(c, { project: p(a.project), branch: a.branch }),
    }),
    { readOnlyHint: true },
  );
}
