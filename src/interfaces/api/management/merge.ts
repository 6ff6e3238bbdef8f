import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { diffBranch } from "../../../branches/diff.ts";
import { mergeBlockedError, mergeBranch } from "../../../branches/merge.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

const tags = ["merge"];

/** `bough branch diff` and `bough branch merge [--dry-run]`. */
export function mergeRoutes({ ctxOf, ops }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/diff",
      {
        schema: {
          tags,
          summary: "What the branch changed since T0 (and what its parent changed), read-only",
          params: S.BranchParams,
          response: { 200: S.DiffReport, ...S.ERRORS },
        },
      },
      async (req) =>
        diffBranch(ctxOf(req), { project: req.params.project, name: req.params.branch }),
    );

    app.post(
      "/projects/:project/branches/:branch/merge",
      {
        schema: {
          tags,
          summary: "Merge the branch into its parent, or preview it with dryRun",
          description:
            "Three-way diff, plan, rehearsal on a clone of the parent, then one transaction. " +
            "`dryRun: true` answers at once with the preview SQL, changes and conflicts and changes " +
            "nothing. A blocked merge is 409 MERGE_CONFLICT with the report as `details`.",
          params: S.BranchParams,
          querystring: S.WaitQuery,
          body: S.MergeBody,
          response: { 200: S.MergeReport, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const ctx = ctxOf(req);
        const target = { project: req.params.project, name: req.params.branch };
        if (req.body.dryRun) return mergeBranch(ctx, { ...target, dryRun: true });
        return ops.run(reply, {
          kind: "branch.merge",
          wait: req.query.wait,
          okStatus: 200,
          work: async () => {
            const r = await mergeBranch(ctx, {
              ...target,
              allowProtected: req.body.allowProtected,
            });
            if (r.blocked) throw mergeBlockedError(r);
            return r;
          },
        });
      },
    );
  };
}
