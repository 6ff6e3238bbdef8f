import { z } from "zod";
import { compareBranches } from "../../branches/compare.ts";
import { protectBranch, unprotectBranch } from "../../branches/protect.ts";
import { renameBranch } from "../../branches/rename.ts";
import { restoreBranch } from "../../branches/restore.ts";
import { setBranch } from "../../branches/set.ts";
import { parseDuration } from "../../core/duration.ts";
import { branch, project, type ToolKit } from "./tool.ts";

const at = z.string().optional().describe('ISO 8601, or text `date -d` reads ("10 minutes ago")');
const lsn = z.string().optional().describe("a WAL position, e.g. 0/3000148 (exclusive)");

/** Restore, two-way diff, protection, expiry, idle timeout and rename: `bough branch ...`. */
export function registerLifecycleTools({ tool, p }: ToolKit): void {
  tool(
    "restore_branch",
    "Put a branch back to its own past, in place (schema, data, platform config; same name, port and keys), to undo a bad write or migration. Give exactly one of at or lsn. Its current state is kept as a new child branch NAME-before-restore-<time> (returned as backup): keep it (noBackup only when the user said so) and delete it once the restore is checked. Look before you restore: diff_branches with a and b both this branch and at shows how its schema differed then, or create_branch with at gives a copy of that past to query first. Refused on protected branches; a time outside the history window is an error giving the window.",
    {
      project,
      name: branch,
      at,
      lsn,
      noBackup: z
        .boolean()
        .optional()
        .describe("do not keep the current state as a backup branch (it is then lost)"),
    },
    async (c, a) => {
      const r = await restoreBranch(c, {
        project: p(a.project),
        name: a.name,
        at: a.at,
        lsn: a.lsn,
        backup: a.noBackup !== true,
      });
      return { ...r, elapsedMs: Math.round(r.elapsedMs) };
    },
    { destructiveHint: true },
  );
  tool(
    "diff_branches",
    "Two-way schema diff of any two branches of the project (read-only): the changes that turn a's schema and config into b's, i.e. what b has that a has not. With at or lsn, b as it was then (recovered into a throwaway clone; neither branch is touched). Use diff_branch instead for what one branch changed since it was created and what a merge would carry.",
    {
      project,
      a: z.string().describe("the branch to compare from"),
      b: z.string().describe("the branch to compare to (as of at/lsn if given)"),
      at,
      lsn,
    },
    (c, a) => compareBranches(c, { project: p(a.project), a: a.a, b: a.b, at: a.at, lsn: a.lsn }),
    { readOnlyHint: true },
  );
  tool(
    "protect_branch",
    "Protect a branch: reset, restore, delete and run_sql writes on it are refused, merges into it (other than into main) need allowProtected, and it never expires (its expiry is dropped). main is protected from the start.",
    { project, name: branch },
    (c, a) => protectBranch(c, { project: p(a.project), name: a.name }),
  );
  tool(
    "unprotect_branch",
    "Allow reset, restore and delete of a branch again. Only when the user asked for it: protection is how they keep a branch's state safe from agents.",
    { project, name: branch },
    (c, a) => unprotectBranch(c, { project: p(a.project), name: a.name }),
    { destructiveHint: true },
  );
  tool(
    "set_branch_expiry",
    "Set when a branch is deleted by itself (give one of expiresIn, expiresAt, noExpiry). Give every branch you create for an experiment an expiry, so it cannot leak. Root and protected branches never expire.",
    {
      project,
      name: branch,
      expiresIn: z.string().optional().describe("from now: 30m, 2h, 7d"),
      expiresAt: z.string().optional().describe("an ISO 8601 time"),
      noExpiry: z.boolean().optional().describe("never delete it by expiry"),
    },
    (c, a) =>
      setBranch(c, {
        project: p(a.project),
        name: a.name,
        expiresIn: a.expiresIn,
        expiresAt: a.expiresAt,
        noExpiry: a.noExpiry,
      }),
  );
  tool(
    "set_branch_idle_timeout",
    "Scale to zero: stop a branch's Postgres after this long without connections (the next connection starts it again, data kept). never keeps it running.",
    {
      project,
      name: branch,
      suspendAfter: z.string().describe("30s, 5m, 2h or never"),
    },
    (c, a) =>
      setBranch(c, {
        project: p(a.project),
        name: a.name,
        suspendAfterMs: parseDuration(a.suspendAfter),
      }),
  );
  tool(
    "rename_branch",
    "Rename a branch: same cluster, port, data and keys; its API path and proxy user name follow the new name.",
    { project, name: branch, newName: z.string().describe("the new name") },
    (c, a) => renameBranch(c, { project: p(a.project), name: a.name, newName: a.newName }),
  );
}
