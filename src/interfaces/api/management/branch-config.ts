import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { maskList, maskSet, maskUnset } from "../../../branches/mask.ts";
import { tablePolicyList, tablePolicySet } from "../../../branches/table-policies.ts";
import type { ManagementDeps } from "./context.ts";
import * as L from "./lifecycle-schemas.ts";
import * as S from "./schemas.ts";

/** `bough mask set|list|unset` and `bough table-policy set|list`: config rows of a branch, merged like config. */
export function branchConfigRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/mask-rules",
      {
        schema: {
          tags: ["masking"],
          summary: "The masking rules a `create` with `mask: true` from this branch applies",
          params: S.BranchParams,
          response: { 200: L.MaskRules, ...S.ERRORS },
        },
      },
      async (req) => maskList(ctxOf(req), req.params),
    );

    app.put(
      "/projects/:project/branches/:branch/mask-rules/:column",
      {
        schema: {
          tags: ["masking"],
          summary: "Mask SCHEMA.TABLE.COLUMN on branches created with `mask: true`",
          description:
            "Checked against the column (type, EXPLAIN of the UPDATE) before it is stored in the " +
            "branch's bough.mask_rules; merging the branch carries it to the parent.",
          params: L.MaskRuleParams,
          body: L.SetMaskRuleBody,
          response: { 200: L.MaskRuleSet, ...S.ERRORS },
        },
      },
      async (req) => maskSet(ctxOf(req), { ...req.params, rule: req.body.rule }),
    );

    app.delete(
      "/projects/:project/branches/:branch/mask-rules/:column",
      {
        schema: {
          tags: ["masking"],
          summary: "Remove the masking rule of SCHEMA.TABLE.COLUMN",
          params: L.MaskRuleParams,
          response: { 200: L.MaskRuleUnset, ...S.ERRORS },
        },
      },
      async (req) => maskUnset(ctxOf(req), req.params),
    );

    app.get(
      "/projects/:project/branches/:branch/table-policies",
      {
        schema: {
          tags: ["merge"],
          summary: "How each registered table's rows merge (bough.table_policies)",
          params: S.BranchParams,
          response: { 200: L.TablePolicies, ...S.ERRORS },
        },
      },
      async (req) => tablePolicyList(ctxOf(req), req.params),
    );

    app.put(
      "/projects/:project/branches/:branch/table-policies/:table",
      {
        schema: {
          tags: ["merge"],
          summary: "Set how SCHEMA.TABLE's rows merge: upsert, merge-rows or ignore",
          description:
            "upsert: config rows by `key`; merge-rows: rows by primary key, cell by cell " +
            "(both sides changing one cell is a conflict); ignore: never merged. `exclude` " +
            "columns are never read, shown or merged. The policy is itself merged like config.",
          params: L.TablePolicyParams,
          body: L.SetTablePolicyBody,
          response: { 200: L.TablePolicy, ...S.ERRORS },
        },
      },
      async (req) =>
        tablePolicySet(ctxOf(req), {
          ...req.params,
          policy: req.body.policy,
          keyColumns: req.body.key,
          exclude: req.body.exclude,
        }),
    );
  };
}
