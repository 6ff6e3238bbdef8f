import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { compareBranches } from "../../../branches/compare.ts";
import { restoreBranch } from "../../../branches/restore.ts";
import type { ManagementDeps } from "./context.ts";
import * as L from "./lifecycle-schemas.ts";
import * as S from "./schemas.ts";

/** `bough branch restore NAME --at|--lsn [--no-backup]` and `bough branch diff A B [--at|--lsn]`. */
export function lifecycleRoutes({ ctxOf, ops }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      "/projects/:project/branches/:branch/restore",
      {
        schema: {
          tags: ["branches"],
          summary: "Put a branch back to its own past, in place (name, port and keys kept)",
          description:
            "Recovered from the branch's WAL archive beside the live cluster, then swapped in. " +
            "Its state before the restore is kept as the new child NAME-before-restore-<time> " +
            "(`backup`) unless `noBackup`. Refused on a protected branch (409 BRANCH_PROTECTED); " +
            "a time outside the history window is 400 with the window.",
          params: S.BranchParams,
          querystring: S.WaitQuery,
          body: L.RestoreBody,
          response: { 200: L.RestoreReport, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const ctx = ctxOf(req);
        const { at, lsn, noBackup } = req.body;
        return ops.run(reply, {
          kind: "branch.restore",
          wait: req.query.wait,
          okStatus: 200,
          work: async () => {
            const r = await restoreBranch(ctx, {
              project: req.params.project,
              name: req.params.branch,
              at,
              lsn,
              backup: noBackup !== true,
            });
            return { ...r, elapsedMs: Math.round(r.elapsedMs) };
          },
        });
      },
    );

    app.get(
      "/projects/:project/branches/:branch/diff/:other",
      {
        schema: {
          tags: ["merge"],
          summary: "Two-way schema diff: what `other` has that the branch has not, read-only",
          description:
            "Any two branches of the project, like Neon's schema diff. With `at` or `lsn`, " +
            "`other` as it was then (recovered into a throwaway clone; neither branch is written).",
          params: L.CompareParams,
          querystring: L.CompareQuery,
          response: { 200: L.CompareReport, ...S.ERRORS },
        },
      },
      async (req) =>
        compareBranches(ctxOf(req), {
          project: req.params.project,
          a: req.params.branch,
          b: req.params.other,
          ...req.query,
        }),
    );
  };
}
