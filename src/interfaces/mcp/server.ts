import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Actor, Ctx } from "../../branches/context.ts";
import { createBranch } from "../../branches/create.ts";
import { deleteBranch } from "../../branches/delete.ts";
import { diffBranch } from "../../branches/diff.ts";
import { emailOutbox } from "../../branches/email.ts";
import { deployFunction, listFunctionsOp } from "../../branches/functions.ts";
import { branchHistory } from "../../branches/history.ts";
import { branchKeys } from "../../branches/keys.ts";
import { listBranchInfos, showBranch } from "../../branches/list.ts";
import { mergeBlockedError, mergeBranch, rebaseBranch } from "../../branches/merge.ts";
import { undoMerge } from "../../branches/merge-undo.ts";
import { listMergeInfos } from "../../branches/merges.ts";
import { migrateApplySql } from "../../branches/migrate.ts";
import { resetBranch } from "../../branches/reset.ts";
import { describeSchema, runSql } from "../../branches/run-sql.ts";
import { scheduleList } from "../../branches/schedules.ts";
import { parseDuration } from "../../core/duration.ts";
import { registerConfigTools } from "./config-tools.ts";
import { registerLifecycleTools } from "./lifecycle-tools.ts";
import { branch, project, toolRegistrar } from "./tool.ts";

export interface McpOptions {
  /** Project the tools act on when a call names none. */
  project: string;
  /** Who the transport authenticated: "stdio", or the admin key's name over HTTP. */
  actorName: string;
  /** Let run_sql write on the root branch (main). */
  allowMainWrites?: boolean;
}

const WORKFLOW =
  "Safe workflow: create_branch (with expiresIn, so it cannot leak) → change it (run_sql with allowWrite, migrate_apply, deploy_function) → diff_branch → merge_branch with dryRun → merge_branch (or reset_branch to throw the work away). Never write on main; protected branches refuse reset, restore and delete.";

const RENAMES = z
  .array(z.string())
  .optional()
  .describe(
    "rename hints for drop + create pairs that are one object renamed (rows kept): `table:public.a=public.b`, `column:public.t.a=b`; the report's renameSuggestions gives them",
  );

/**
 * The bough MCP server: tools and resources over the same src/branches calls as the CLI,
 * every call made as the MCP actor (transport name + the client's name from initialize).
 */
export function buildMcpServer(ctx: Ctx, o: McpOptions): McpServer {
  const server = new McpServer(
    { name: "bough", version: "0.1.0" },
    { instructions: `bough: git-style branches of a whole Postgres backend. ${WORKFLOW}` },
  );
  const as = (): Ctx => {
    const actor: Actor = { kind: "mcp", name: o.actorName };
    const client = server.server.getClientVersion()?.name;
    if (client) actor.client = client;
    return { ...ctx, actor };
  };
  const p = (given: string | undefined) => given ?? o.project;
  const tool = toolRegistrar(server, as);
  tool(
    "list_branches",
    `List the project's branches (name, parent, state, running, connection string). ${WORKFLOW}`,
    { project },
    (c, a) => listBranchInfos(c, { project: p(a.project) }),
    { readOnlyHint: true },
  );
  tool(
    "create_branch",
    "Create a branch: an instant copy-on-write clone of its parent (default main), data included. Returns its Postgres connection string, API URL and publishable/secret keys. Step 1 of the safe workflow: do all changes here, never on main. Give a throwaway branch expiresIn (e.g. 2h) so it is deleted by itself if you forget it. With at or lsn it is the parent as it was then (to inspect or recover what a bad write destroyed, without touching the parent). With mask: true the copy's data is anonymized by the parent's masking rules (list_mask_rules) before anyone can read it: use it whenever production-like data is not needed in clear.",
    {
      project,
      name: branch,
      from: z.string().optional().describe("parent branch (default main)"),
      mode: z.enum(["full", "schema-only"]).optional(),
      mask: z
        .boolean()
        .optional()
        .describe("anonymize the copy with the parent's masking rules (and its auth users)"),
      at: z
        .string()
        .optional()
        .describe('the parent as it was at this time (ISO 8601 or "10 minutes ago")'),
      lsn: z.string().optional().describe("the parent as it was just before this WAL position"),
      expiresIn: z.string().optional().describe("delete it after this long: 30m, 2h, 7d"),
      expiresAt: z.string().optional().describe("delete it at this ISO 8601 time"),
      suspendAfter: z
        .string()
        .optional()
        .describe("stop its Postgres after this long without connections: 30s, 5m, never"),
    },
    async (c, a) => {
      const target = { project: p(a.project), name: a.name };
      const r = await createBranch(c, {
        ...target,
        from: a.from,
        mode: a.mode,
        mask: a.mask,
        at: a.at,
        lsn: a.lsn,
        expiresIn: a.expiresIn,
        expiresAt: a.expiresAt,
        suspendAfterMs: a.suspendAfter === undefined ? undefined : parseDuration(a.suspendAfter),
        switchTo: false,
      });
      return { ...r.branch, ...(await branchKeys(c, target)) };
    },
  );
  tool(
    "show_branch",
    "Everything known about one branch: state, parent, T0, disk, children, connection string, API URL and keys.",
    { project, name: branch },
    async (c, a) => {
      const target = { project: p(a.project), name: a.name };
      const d = await showBranch(c, target);
      const keys = ["creating", "deleting"].includes(d.state) ? null : await branchKeys(c, target);
      return { ...d, ...keys };
    },
    { readOnlyHint: true },
  );
  tool(
    "reset_branch",
    "Throw a branch's work away: back to exactly its T0 state (schema, data, platform config). The way out when a change went wrong. With toParent: true it becomes a fresh copy of its parent as it is now instead (same name, port and keys; its merge base becomes the parent now): use it to refresh a long-lived branch, after merging what you want to keep. Refused on protected branches (BRANCH_PROTECTED): do not unprotect a branch to get around it unless the user asked.",
    {
      project,
      name: branch,
      toParent: z
        .boolean()
        .optional()
        .describe("copy the parent's current state instead of going back to T0"),
    },
    (c, a) => resetBranch(c, { project: p(a.project), name: a.name, toParent: a.toParent }),
    { destructiveHint: true },
  );
  tool(
    "delete_branch",
    "Stop and remove a branch (and with recursive its children). Cannot be undone.",
    { project, name: branch, recursive: z.boolean().optional() },
    async (c, a) => ({
      deleted: await deleteBranch(c, {
        project: p(a.project),
        name: a.name,
        recursive: a.recursive,
      }),
    }),
    { destructiveHint: true },
  );
  tool(
    "run_sql",
    "Run SQL on a branch in one transaction. READ ONLY unless allowWrite is true; writes are refused on main (the root branch): create_branch first, write there, then diff_branch and merge_branch. At most 500 rows are returned.",
    {
      project,
      branch,
      sql: z
        .string()
        .describe(
          "SQL: one statement when read-only; with allowWrite several (the last one's rows are returned)",
        ),
      allowWrite: z.boolean().optional().describe("run read-write (never on main)"),
    },
    (c, a) =>
      runSql(c, {
        project: p(a.project),
        branch: a.branch,
        sql: a.sql,
        allowWrite: a.allowWrite,
        allowRootWrites: o.allowMainWrites,
      }),
  );
  tool(
    "describe_schema",
    "The user tables of a branch with their columns and types (platform schemas left out).",
    { project, branch },
    async (c, a) => ({
      tables: await describeSchema(c, { project: p(a.project), branch: a.branch }),
    }),
    { readOnlyHint: true },
  );
  tool(
    "diff_branch",
    "What a branch changed since T0, and what its parent changed meanwhile (read-only). Run before merge_branch.",
    { project, name: branch, renames: RENAMES },
    (c, a) => diffBranch(c, { project: p(a.project), name: a.name, renames: a.renames }),
    { readOnlyHint: true },
  );
  tool(
    "branch_history",
    "The DDL statements run on a branch since its fork (T0), oldest first: who (role, application_name), when, the statement and the objects it touched. Read-only.",
    {
      project,
      name: branch,
      since: z.string().optional().describe("only since an ISO time or an age (30m, 1h, 7d)"),
    },
    (c, a) => branchHistory(c, { project: p(a.project), name: a.name, since: a.since }),
    { readOnlyHint: true },
  );
  const takeArgs = {
    dryRun: z.boolean().optional(),
    takeBranch: z.array(z.string()).optional().describe("conflict ids where the branch wins"),
    takeParent: z.array(z.string()).optional().describe("conflict ids where the parent wins"),
    acceptDataLoss: z.boolean().optional(),
    acceptServerAccess: z
      .boolean()
      .optional()
      .describe("needed when a migration runs a program or touches server files"),
    renames: RENAMES,
    allowProtected: z
      .boolean()
      .optional()
      .describe("needed to write into a protected branch other than main"),
  };
  /** The merge engine either way; a blocked run is an error carrying the conflicts. */
  const mergeTool = async (
    c: Ctx,
    a: {
      project?: string;
      name: string;
      dryRun?: boolean;
      takeBranch?: string[];
      takeParent?: string[];
      acceptDataLoss?: boolean;
      acceptServerAccess?: boolean;
      allowProtected?: boolean;
      into?: string;
      renames?: string[];
    },
    rebase: boolean,
  ) => {
    const o = {
      project: p(a.project),
      name: a.name,
      dryRun: a.dryRun,
      take: { branch: a.takeBranch, parent: a.takeParent },
      acceptDataLoss: a.acceptDataLoss ?? false,
      acceptServerAccess: a.acceptServerAccess ?? false,
      allowProtected: a.allowProtected,
      renames: a.renames,
    };
    const r = rebase ? await rebaseBranch(c, o) : await mergeBranch(c, { ...o, into: a.into });
    if (r.blocked && !r.dryRun) throw mergeBlockedError(r);
    return r;
  };
  tool(
    "merge_branch",
    "Merge a branch into its parent: three-way, rehearsed on a clone, applied in one transaction. Call with dryRun: true first: it returns the SQL preview, the structured changes and any conflicts, and changes nothing. Without dryRun it merges; a blocked merge is an error carrying the conflicts, and the parent is left unchanged. Settle conflicts with takeBranch/takeParent (conflict ids from the report) only after reading both definitions; a plan that deletes data needs acceptDataLoss.",
    {
      project,
      name: branch,
      ...takeArgs,
      into: z
        .string()
        .optional()
        .describe("merge into this branch instead of the parent (a sibling, an ancestor)"),
    },
    (c, a) => mergeTool(c, a, false),
  );
  tool(
    "rebase_branch",
    "Bring the parent's schema and config changes since the last merge onto a branch (its data and own changes are kept), so that its next merge holds only its own work. Call with dryRun: true first; conflicts are as in merge_branch (takeBranch keeps the branch's version).",
    { project, name: branch, ...takeArgs },
    (c, a) => mergeTool(c, a, true),
  );
  tool(
    "list_merges",
    "The project's applied merges (merge, into, rebase), newest first: id, branch, target, when, whether it can still be undone. Read-only.",
    { project },
    async (c, a) => listMergeInfos(c, { project: p(a.project) }),
    { readOnlyHint: true },
  );
  tool(
    "undo_merge",
    "Undo an applied merge (id from list_merges, or the last merge of branch name): its schema and config changes are reverted and the rows of tables and columns it dropped restored from the target's pre-merge state. Call with dryRun: true first. If the target changed an object the merge touched since, it is an error carrying the conflicts and nothing runs. A plan that deletes data (a column the merge added) needs acceptDataLoss.",
    {
      project,
      id: z.number().int().positive().optional().describe("the merge id (list_merges)"),
      name: branch.optional().describe("or: undo the last merge recorded on this branch"),
      dryRun: z.boolean().optional(),
      acceptDataLoss: z.boolean().optional(),
      allowProtected: takeArgs.allowProtected,
    },
    async (c, a) => {
      const r = await undoMerge(c, {
        project: p(a.project),
        id: a.id,
        name: a.id === undefined ? a.name : undefined,
        dryRun: a.dryRun,
        acceptDataLoss: a.acceptDataLoss ?? false,
        allowProtected: a.allowProtected,
      });
      if (r.blocked && !r.dryRun) throw mergeBlockedError(r);
      return r;
    },
    { destructiveHint: true },
  );
  tool(
    "migrate_apply",
    "Run a SQL migration on a branch in one transaction and record it under name; recorded migrations are replayed first when the branch merges. Prefer it to run_sql for schema changes.",
    {
      project,
      branch,
      name: z.string().describe("migration name, e.g. 001_add_orders.sql"),
      sql: z.string(),
    },
    (c, a) =>
      migrateApplySql(c, { project: p(a.project), branch: a.branch, name: a.name, sql: a.sql }),
  );
  tool(
    "deploy_function",
    "Deploy an edge function (one TypeScript file, Deno) to a branch; refused if Deno cannot parse it. Merging the branch deploys it on the parent.",
    {
      project,
      branch,
      name: z.string().describe("function name"),
      source: z.string().describe("the function's TypeScript source (stored as index.ts)"),
      verifyJwt: z.boolean().optional(),
    },
    (c, a) =>
      deployFunction(c, {
        project: p(a.project),
        branch: a.branch,
        name: a.name,
        source: a.source,
        verifyJwt: a.verifyJwt,
      }),
  );
  tool(
    "list_functions",
    "The edge functions deployed on a branch (name, files, size, whether they need a key).",
    { project, branch },
    async (c, a) => ({
      functions: await listFunctionsOp(c, { project: p(a.project), branch: a.branch }),
    }),
    { readOnlyHint: true },
  );
  tool(
    "list_schedules",
    "The cron jobs of a branch and whether each fires there (a copied job is paused until resumed on the branch).",
    { project, branch },
    async (c, a) => ({
      schedules: await scheduleList(c, { project: p(a.project), branch: a.branch }),
    }),
    { readOnlyHint: true },
  );
  tool(
    "read_outbox",
    "The email outbox of a branch: mail the branch queued, and whether it was delivered (a branch delivers only once SMTP is set on it).",
    { project, branch, limit: z.number().int().positive().optional() },
    async (c, a) => ({
      outbox: await emailOutbox(c, { project: p(a.project), branch: a.branch, limit: a.limit }),
    }),
    { readOnlyHint: true },
  );
  registerLifecycleTools({ tool, p });
  registerConfigTools({ tool, p });

  server.registerResource(
    "branches",
    "bough://branches",
    { description: "the project's branches", mimeType: "application/json" },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: "application/json",
          text: JSON.stringify(await listBranchInfos(as(), { project: o.project }), null, 2),
        },
      ],
    }),
  );
  server.registerResource(
    "branch-schema",
    new ResourceTemplate("bough://branches/{name}/schema", { list: undefined }),
    { description: "a branch's tables and columns", mimeType: "application/json" },
    async (uri, v) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: "application/json",
          text: JSON.stringify(
            await describeSchema(as(), { project: o.project, branch: String(v.name) }),
            null,
            2,
          ),
        },
      ],
    }),
  );
  return server;
}
