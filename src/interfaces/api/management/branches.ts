import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { createBranch } from "../../../branches/create.ts";
import { deleteBranch } from "../../../branches/delete.ts";
import { branchKeys } from "../../../branches/keys.ts";
import { listBranchInfos, showBranch } from "../../../branches/list.ts";
import { protectBranch, unprotectBranch } from "../../../branches/protect.ts";
import { renameBranch } from "../../../branches/rename.ts";
import { resetBranch } from "../../../branches/reset.ts";
import { setBranch } from "../../../branches/set.ts";
import { startBranchOp, stopBranchOp } from "../../../branches/start-stop.ts";
import { parseDuration } from "../../../core/duration.ts";
import { BoughError } from "../../../core/errors.ts";
import type { ManagementDeps } from "./context.ts";
import * as S from "./schemas.ts";

const tags = ["branches"];

/** `suspendAfter` as the CLI's `--suspend-after` reads it (ms, 0 never). */
const durationOf = (v: string | undefined) => (v === undefined ? undefined : parseDuration(v));

/** `bough branch create|list|show|delete|start|stop|reset|keys|set|protect|unprotect|rename`, one route each. */
export function branchRoutes({ ctxOf, ops }: ManagementDeps): FastifyPluginAsyncTypebox {
  // Names being created by this server: a second create of one is refused at once (409),
  // before either is queued, so an asynchronous create cannot accept both.
  const creating = new Set<string>();
  return async (app) => {
    app.get(
      "/projects/:project/branches",
      {
        schema: {
          tags,
          summary: "List a project's branches",
          params: S.ProjectParams,
          response: { 200: S.Branches, ...S.ERRORS },
        },
      },
      async (req) => listBranchInfos(ctxOf(req), { project: req.params.project }),
    );

    app.post(
      "/projects/:project/branches",
      {
        schema: {
          tags,
          summary: "Create a branch: a copy-on-write clone of its parent (default main)",
          description:
            "With `at` or `lsn`, the parent as it was then (recovered from its WAL archive; " +
            "outside the history window: 400 with the window). `mask` anonymizes the copy " +
            "before anyone can read it; `expiresIn`/`expiresAt` delete it by then.",
          params: S.ProjectParams,
          querystring: S.WaitQuery,
          body: S.CreateBranchBody,
          response: { 201: S.CreatedBranch, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const ctx = ctxOf(req);
        const { project } = req.params;
        const { name, parent, mode, mask, at, lsn, expiresIn, expiresAt } = req.body;
        const suspendAfterMs = durationOf(req.body.suspendAfter);
        const key = JSON.stringify([project, name]);
        if (creating.has(key)) {
          throw new BoughError(
            "BRANCH_EXISTS",
            `branch "${name}" is being created`,
            "pick another name, or poll the operation that creates it",
          );
        }
        creating.add(key);
        const work = async () => {
          try {
            const r = await createBranch(ctx, {
              project,
              name,
              from: parent,
              mode,
              mask,
              at,
              lsn,
              expiresIn,
              expiresAt,
              suspendAfterMs,
              // The CLI's current branch is the local user's, not the API caller's.
              switchTo: false,
            });
            return { ...r.branch, elapsedMs: Math.round(r.elapsedMs), cloneDriver: r.cloneDriver };
          } finally {
            creating.delete(key);
          }
        };
        return ops.run(reply, { kind: "branch.create", wait: req.query.wait, okStatus: 201, work });
      },
    );

    app.get(
      "/projects/:project/branches/:branch",
      {
        schema: {
          tags,
          summary: "Everything known about one branch, its API URL and keys included",
          params: S.BranchParams,
          response: { 200: S.BranchDetail, ...S.ERRORS },
        },
      },
      async (req) => {
        const ctx = ctxOf(req);
        const target = { project: req.params.project, name: req.params.branch };
        const d = await showBranch(ctx, target);
        // As `bough branch show`: no keys while it is being created or deleted.
        const keys = ["creating", "deleting"].includes(d.state)
          ? null
          : await branchKeys(ctx, target);
        return { ...d, ...keys };
      },
    );

    app.delete(
      "/projects/:project/branches/:branch",
      {
        schema: {
          tags,
          summary: "Stop and remove a branch, its T0 clone and its port",
          params: S.BranchParams,
          querystring: S.DeleteBranchQuery,
          response: { 200: S.Deleted, ...S.ERRORS },
        },
      },
      async (req) => {
        const deleted = await deleteBranch(ctxOf(req), {
          project: req.params.project,
          name: req.params.branch,
          recursive: req.query.recursive,
        });
        return { deleted };
      },
    );

    for (const [action, op, summary] of [
      ["start", startBranchOp, "Start a branch's Postgres (recovers it after a crash)"],
      ["stop", stopBranchOp, "Stop a branch's Postgres"],
      ["protect", protectBranch, "Protect a branch: reset, restore and delete are refused"],
      ["unprotect", unprotectBranch, "Allow reset, restore and delete of a branch again"],
    ] as const) {
      app.post(
        `/projects/:project/branches/:branch/${action}`,
        {
          schema: {
            tags,
            summary,
            params: S.BranchParams,
            response: { 200: S.BranchInfo, ...S.ERRORS },
          },
        },
        async (req) => op(ctxOf(req), { project: req.params.project, name: req.params.branch }),
      );
    }

    app.post(
      "/projects/:project/branches/:branch/reset",
      {
        schema: {
          tags,
          summary: "Throw the branch's work away: back to exactly its T0 state",
          params: S.BranchParams,
          querystring: S.ResetQuery,
          response: { 200: S.BranchInfo, 202: S.OperationInfo, ...S.ERRORS },
        },
      },
      async (req, reply) => {
        const ctx = ctxOf(req);
        const target = { project: req.params.project, name: req.params.branch };
        return ops.run(reply, {
          kind: "branch.reset",
          wait: req.query.wait,
          okStatus: 200,
          work: () => resetBranch(ctx, { ...target, toParent: req.query.toParent }),
        });
      },
    );

    app.patch(
      "/projects/:project/branches/:branch",
      {
        schema: {
          tags,
          summary: "Change a branch's settings (expiry, idle timeout)",
          params: S.BranchParams,
          body: S.SetBranchBody,
          response: { 200: S.BranchInfo, ...S.ERRORS },
        },
      },
      async (req) => {
        const { suspendAfter, ...expiry } = req.body;
        return setBranch(ctxOf(req), {
          project: req.params.project,
          name: req.params.branch,
          ...expiry,
          suspendAfterMs: durationOf(suspendAfter),
        });
      },
    );

    app.post(
      "/projects/:project/branches/:branch/rename",
      {
        schema: {
          tags,
          summary: "Rename a branch (same cluster, port, data and keys)",
          params: S.BranchParams,
          body: S.RenameBranchBody,
          response: { 200: S.BranchInfo, ...S.ERRORS },
        },
      },
      async (req) =>
        renameBranch(ctxOf(req), {
          project: req.params.project,
          name: req.params.branch,
          newName: req.body.newName,
        }),
    );

    app.get(
      "/projects/:project/branches/:branch/keys",
      {
        schema: {
          tags,
          summary: "The branch's API URL, publishable (anon) and secret (service_role) keys",
          params: S.BranchParams,
          response: { 200: S.BranchKeys, ...S.ERRORS },
        },
      },
      async (req) =>
        branchKeys(ctxOf(req), { project: req.params.project, name: req.params.branch }),
    );

    app.post(
      "/projects/:project/branches/:branch/keys/rotate",
      {
        schema: {
          tags,
          summary: "Replace both keys (the old ones stop working at once)",
          params: S.BranchParams,
          response: { 200: S.BranchKeys, ...S.ERRORS },
        },
      },
      async (req) =>
        branchKeys(ctxOf(req), {
          project: req.params.project,
          name: req.params.branch,
          rotate: true,
        }),
    );
  };
}
