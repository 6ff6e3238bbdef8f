import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { branchHistory } from "../../../branches/history.ts";
import { readAudit } from "../../../control/audit.ts";
import { sinceInstant } from "../../../core/since.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

/** `bough branch history` and `bough audit`: the two trails, read-only. */
export function historyRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/history",
      {
        schema: {
          tags: ["history"],
          summary: "The DDL statements run on the branch since its fork (T0), oldest first",
          description:
            "Recorded in the branch's own database by an event trigger (bough.ddl_log): who " +
            "(session and current role, application_name), when, the statement and the objects " +
            "it created, altered or dropped. Starts a stopped branch.",
          params: S.BranchParams,
          querystring: S.SinceQuery,
          response: { 200: S.BranchHistory, ...S.ERRORS },
        },
      },
      async (req) =>
        branchHistory(ctxOf(req), {
          project: req.params.project,
          name: req.params.branch,
          since: req.query.since,
        }),
    );

    app.get(
      "/audit",
      {
        schema: {
          tags: ["history"],
          summary: "The control-plane audit log: who did what to which branch, and how it ended",
          description: "The newest `limit` lines (default 100) matching the filters, oldest first.",
          querystring: S.AuditQuery,
          response: { 200: S.AuditEntries, ...S.ERRORS },
        },
      },
      async (req) =>
        readAudit(ctxOf(req).db, {
          project: req.query.project,
          branch: req.query.branch,
          since: req.query.since === undefined ? undefined : sinceInstant(req.query.since),
          limit: req.query.limit ?? 100,
        }),
    );
  };
}
