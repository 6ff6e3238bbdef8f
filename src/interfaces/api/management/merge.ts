import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply } from "fastify";
import type { Ctx } from "../../../branches/context.ts";
import { diffBranch } from "../../../branches/diff.ts";
import { mergeBlockedError, mergeBranch, rebaseBranch } from "../../../branches/merge.ts";
import { resolveConflict } from "../../../branches/merge-resolve.ts";
import { undoMerge } from "../../../branches/merge-undo.ts";
import { listMergeInfos } from "../../../branches/merges.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

const tags = ["merge"];

/** `bough branch diff` and `bough branch merge [--dry-run]`. */
export function mergeRoutes({ ctxOf, ops }: ManagementDeps): FastifyPluginAsyncTypebox {
  /** Both run the one engine: dry runs answer at once, the rest as an operation. */
  const mergeOrRebase = async (
    ctx: Ctx,
    req: { params: { project: string; branch: string }; body: S.MergeBodyT; wait?: boolean },
    reply: FastifyReply,
    rebase: boolean,
  ) => {
    const b = req.body;
    const plan = {
      project: req.params.project,
      name: req.params.branch,
      take: b.take,
      acceptDataLoss: b.acceptDataLoss ?? false,
      acceptServerAccess: b.acceptServerAccess ?? false,
      allowProtected: b.allowProtected,
      renames: b.renames,
    };
    const go = (dryRun: boolean) =>
      rebase
        ? rebaseBranch(ctx, { ...plan, dryRun })
        : mergeBranch(ctx, { ...plan, into: b.into, dryRun });
    if (b.dryRun) return go(true);
    return ops.run(reply, {
      kind: rebase ? "branch.rebase" : "branch.merge",
      wait: req.wait,
      okStatus: 200,
      work: async () => {
        const r = await go(false);
        if (r.blocked) throw mergeBlockedError(r);
        return r;
      },
    });
  };
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
      (req, reply) => mergeOrRebase(ctxOf(req), { ...req, wait: req.query.wait }, reply, false),
    );

    app.post(
      "/projects/:project/branches/:branch/rebase",
      {
        schema: {
          tags,
          summary: "Bring the parent's schema and config changes onto the branch",
          description:
            "The merge engine the other way round: the parent's changes since the merge base are rehearsed on a clone of the branch and applied to it in one transaction; the branch keeps its data and own changes, and its merge base becomes the parent now. Same body as merge (`into` aside); `take` sides are as the user sees them (branch = this branch).",
          params: S.BranchParams,
          querystring: S.WaitQuery,
          body: S.MergeBody,
          response: { 200: S.MergeReport, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      (req, reply) => mergeOrRebase(ctxOf(req), { ...req, wait: req.query.wait }, reply, true),
    );

    app.get(
      "/projects/:project/merges",
      {
        schema: {
          tags,
          summary: "The project's applied merges (merge, into, rebase), newest first",
          params: S.ProjectParams,
          response: { 200: S.MergeList, ...S.ERRORS },
        },
      },
      async (req) => listMergeInfos(ctxOf(req), { project: req.params.project }),
    );

    app.post(
      "/projects/:project/merges/:id/undo",
      {
        schema: {
          tags,
          summary: "Undo an applied merge, or preview the undo with dryRun",
          description:
            "A three-way merge of the target's pre-merge state (recovered from its history) into the target now, " +
            "based on the target as the merge left it: what the target changed since in objects the merge touched " +
            "is 409 MERGE_CONFLICT with the report as `details`, and nothing runs. Rows of tables and columns the " +
            "merge dropped are restored. A merge older than the project's history window cannot be undone.",
          params: S.MergeIdParams,
          querystring: S.WaitQuery,
          body: S.UndoBody,
          response: { 200: S.MergeReport, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const ctx = ctxOf(req);
        const go = (dryRun: boolean) =>
          undoMerge(ctx, {
            project: req.params.project,
            id: req.params.id,
            dryRun,
            acceptDataLoss: req.body.acceptDataLoss ?? false,
            allowProtected: req.body.allowProtected,
          });
        if (req.body.dryRun) return go(true);
        return ops.run(reply, {
          kind: "merge.undo",
          wait: req.query.wait,
          okStatus: 200,
          work: async () => {
            const r = await go(false);
            if (r.blocked) throw mergeBlockedError(r);
            return r;
          },
        });
      },
    );

    app.post(
      "/projects/:project/branches/:branch/resolutions",
      {
        schema: {
          tags,
          summary: "Record which side wins one conflict of the branch's merge",
          description:
            "Used by the branch's next merge (and shown in its preview) while the conflict stays as it is now.",
          params: S.BranchParams,
          body: S.ResolveBody,
          response: { 200: S.ResolveReport, ...S.ERRORS },
        },
      },
      async (req) =>
        resolveConflict(ctxOf(req), {
          project: req.params.project,
          name: req.params.branch,
          id: req.body.id,
          take: req.body.take,
        }),
    );
  };
}
