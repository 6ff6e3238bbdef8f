import { join } from "node:path";
import { audit } from "../control/audit.ts";
import { updateBranch } from "../control/branches.ts";
import { advance, finishOperation } from "../control/journal.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch } from "../core/types.ts";
import { applyInTransaction } from "../merge/apply.ts";
import type { Change, Conflict } from "../merge/diff/changes.ts";
import { type FingerprintProblem, unmergeableMessage } from "../merge/fingerprint/index.ts";
import type { Statement } from "../merge/plan/index.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { beginBranchOperation, requireSettled } from "./journaled.ts";
import { requireChildBranch } from "./lookup.ts";
import { type PreparedMerge, prepareMerge } from "./merge-prepare.ts";
import { rehearse } from "./merge-rehearse.ts";
import { withClient } from "./sql.ts";

export interface MergeOptions {
  project: string;
  name: string;
  /** Show what would run; change nothing anywhere. */
  dryRun?: boolean;
  /** Called with the preview before anything is written; throw to cancel. */
  confirm?: (preview: string) => Promise<void>;
  /** How long a statement may wait for a lock on the parent (default 5 s). */
  lockTimeoutMs?: number;
}

export interface MergeReport {
  branch: string;
  parent: string;
  dryRun: boolean;
  blocked: boolean;
  merged: boolean;
  migrations: string[];
  changes: Change[];
  conflicts: Conflict[];
  parentChanges: Change[];
  /** Changes the snapshot does not model (found by the catalog fingerprint): they block like conflicts. */
  unmergeable: FingerprintProblem[];
  /** "merge blocked: ..." (conflicts, objects bough cannot merge) when blocked, else null. */
  blockedReason: string | null;
  /** Why the fingerprint check did not run, or null. */
  fingerprintSkipped: string | null;
  statements: Statement[];
  /** The reviewable SQL preview (what --save-sql writes). */
  preview: string;
}

const MAX_REPLANS = 3;

/**
 * Merges a branch into its parent: three-way diff, plan, rehearsal on a copy-on-write
 * clone of the parent, then the same statements on the parent in one transaction.
 * Blocked merges and failures leave the parent exactly as it was.
 */
export function mergeBranch(ctx: Ctx, o: MergeOptions): Promise<MergeReport> {
  return exclusive(ctx, async () => {
    const found = requireChildBranch(ctx, {
      ...o,
      what: "merged (it has no parent)",
      hint: "merge a branch created with `bough branch create`",
    });
    const { project } = found;
    let { branch, parent } = found;
    for (const b of [branch, parent]) requireSettled(b, "merge");
    branch = await startBranch(ctx, project, branch);
    parent = await startBranch(ctx, project, parent);
    let prepared = await prepareMerge(ctx, { project, branch, parent });
    const report = (merged: boolean): MergeReport => toReport(branch, parent, prepared, o, merged);
    if (o.dryRun) return report(false);
    if (isBlocked(prepared)) {
      updateBranch(ctx.db, branch.id, { state: "conflicted", lastError: blockedReason(prepared) });
      audit(ctx.db, { project: project.name, branch: branch.name, action: "branch.merge.blocked" });
      return report(false);
    }
    if (prepared.runnable.length === 0 && prepared.migrations.length === 0) {
      updateBranch(ctx.db, branch.id, {
        state: "merged",
        lastError: null,
        mergeBase: JSON.stringify(prepared.branchSnapshot),
        baseFingerprint: baseFingerprintOf(prepared),
      });
      return report(true);
    }
    await o.confirm?.(prepared.preview);
    const op = beginBranchOperation(ctx, {
      project,
      branch,
      kind: "branch-merge",
      state: "merging",
      args: { parent: parent.name },
    });
    try {
      for (let attempt = 1; ; attempt++) {
        const rehearsalDir = join(ctx.paths.scratchDir(project), `merge-${op.id}-${attempt}`);
        advance(ctx.db, op, "rehearsing", { rehearsalDir });
        await rehearse(ctx, { project, parent, prepared, dir: rehearsalDir });
        faultPoint("merge:after-rehearsal");
        advance(ctx.db, op, "applying");
        const outcome = await withClient(branchUrl(project, parent), (c) =>
          applyInTransaction(c, {
            migrations: prepared.migrations,
            statements: prepared.runnable,
            expectedHash: prepared.parentHash,
            lockTimeoutMs: o.lockTimeoutMs ?? 5000,
          }),
        );
        if (outcome.applied) break;
        // The parent's schema moved since planning: plan again from what it is now.
        if (attempt >= MAX_REPLANS) {
          throw new BoughError(
            "MERGE_FAILED",
            `the parent "${parent.name}" kept changing while merging`,
            "retry when schema changes on the parent have stopped",
          );
        }
        prepared = await prepareMerge(ctx, { project, branch, parent });
        if (isBlocked(prepared)) {
          throw new BoughError(
            "MERGE_CONFLICT",
            `the parent changed while merging and the merge is now blocked: ${blockedReason(prepared)}`,
            `run \`bough branch merge ${branch.name} --dry-run\` to see the conflicts`,
          );
        }
      }
    } catch (err) {
      ctx.db.transaction(() => {
        updateBranch(ctx.db, branch.id, {
          state: (err as BoughError).code === "MERGE_CONFLICT" ? "conflicted" : "ready",
          lastError: (err as Error).message,
        });
        finishOperation(ctx.db, op, "failed", (err as Error).message);
      })();
      throw err;
    }
    ctx.db.transaction(() => {
      updateBranch(ctx.db, branch.id, {
        state: "merged",
        lastError: null,
        mergeBase: JSON.stringify(prepared.branchSnapshot),
        baseFingerprint: baseFingerprintOf(prepared),
      });
      finishOperation(ctx.db, op, "done");
    })();
    audit(ctx.db, {
      project: project.name,
      branch: branch.name,
      action: "branch.merge",
      details: { parent: parent.name, statements: prepared.plan.statements.length },
    });
    return report(true);
  });
}

function toReport(
  branch: Branch,
  parent: Branch,
  p: PreparedMerge,
  o: MergeOptions,
  merged: boolean,
): MergeReport {
  return {
    branch: branch.name,
    parent: parent.name,
    dryRun: o.dryRun ?? false,
    blocked: isBlocked(p),
    blockedReason: isBlocked(p) ? blockedReason(p) : null,
    merged,
    migrations: p.migrations.map((m) => m.name),
    changes: p.diff.changes,
    conflicts: p.diff.conflicts,
    parentChanges: p.diff.parentChanges,
    unmergeable: p.fingerprint.unmergeable,
    fingerprintSkipped: p.fingerprint.skipped,
    statements: p.plan.statements,
    preview: p.preview,
  };
}

/**
 * Conflicts and changes bough cannot merge both block before anything runs: the branch
 * must be changed (resolved, undone, or the change recorded as a migration) first.
 */
const isBlocked = (p: PreparedMerge) =>
  p.diff.conflicts.length > 0 || p.fingerprint.unmergeable.length > 0;

function blockedReason(p: PreparedMerge): string {
  const reasons: string[] = [];
  if (p.diff.conflicts.length > 0) reasons.push(`${p.diff.conflicts.length} conflict(s)`);
  if (p.fingerprint.unmergeable.length > 0)
    reasons.push(unmergeableMessage(p.fingerprint.unmergeable));
  return `merge blocked: ${reasons.join("; ")}`;
}

/** The branch's fingerprint becomes the new base with its snapshot (null keeps the check off, as before). */
const baseFingerprintOf = (p: PreparedMerge) =>
  p.fingerprints.branch ? JSON.stringify(p.fingerprints.branch) : null;
