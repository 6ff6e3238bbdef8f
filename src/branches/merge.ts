import { join } from "node:path";
import { updateBranch } from "../control/branches.ts";
import { advance, finishOperation } from "../control/journal.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, Project } from "../core/types.ts";
import { applyInTransaction } from "../merge/apply.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import type { Change, Conflict } from "../merge/diff/changes.ts";
import { expectedAfterMerge } from "../merge/expected.ts";
import { type FingerprintProblem, unmergeableMessage } from "../merge/fingerprint/index.ts";
import type { Statement } from "../merge/plan/index.ts";
import type { PlatformChange } from "../merge/platform/describe.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { beginBranchOperation, requireSettled } from "./journaled.ts";
import { requireChildBranch } from "./lookup.ts";
import { finishMerged, type LandingRecord } from "./merge-landed.ts";
import { type PreparedMerge, prepareMerge } from "./merge-prepare.ts";
import { rehearse } from "./merge-rehearse.ts";
import { withClient } from "./sql.ts";

export interface MergeOptions {
  project: string;
  name: string;
  /** Show what would run; change nothing anywhere. */
  dryRun?: boolean;
  /**
   * Called with the preview before anything is written, without the home lock held
   * (other commands run meanwhile); throw to cancel. Called again, with `again`, when
   * the parent moved meanwhile and the plan changed. Without it the first plan is
   * taken as confirmed and a changed re-plan is refused.
   */
  confirm?: (preview: string, o: { again: boolean }) => Promise<void>;
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
  /** The branch's platform config changes in words (function source, template subject, job cron, ...). */
  platformChanges: PlatformChange[];
  /** Secret keys set on the branch and missing on the parent (never values; secrets are not merged). */
  secretsMissingOnParent: string[];
  /** The reviewable SQL preview (what --save-sql writes). */
  preview: string;
}

const MAX_REPLANS = 3;

/** What one locked round of a merge ended with. */
type Round =
  | { kind: "done"; report: MergeReport }
  | { kind: "confirm"; prepared: PreparedMerge }
  | { kind: "stale"; prepared: PreparedMerge; parent: string };

/**
 * Merges a branch into its parent: three-way diff, plan, rehearsal on a copy-on-write
 * clone of the parent, then the same statements on the parent in one transaction.
 * Blocked merges and failures leave the parent exactly as it was. The question to the
 * user is asked between two locked rounds; what is applied is always a plan that was
 * confirmed (the same statements), planned again after the answer.
 */
async function mergeBranchNow(ctx: Ctx, o: MergeOptions): Promise<MergeReport> {
  let confirmed: string | null = null;
  for (let stale = 0; ; ) {
    const round = await exclusive(ctx, () => mergeRound(ctx, o, confirmed));
    if (round.kind === "done") return round.report;
    if (round.kind === "stale") {
      confirmed ??= planKey(round.prepared);
      if (++stale >= MAX_REPLANS) {
        throw new BoughError(
          "MERGE_FAILED",
          `the parent "${round.parent}" kept changing while merging`,
          "retry when schema changes on the parent have stopped",
        );
      }
      continue;
    }
    await o.confirm?.(round.prepared.preview, { again: confirmed !== null });
    confirmed = planKey(round.prepared);
  }
}

/** The error every interface reports a blocked (non dry-run) merge with; the report is its details. */
export function mergeBlockedError(r: MergeReport): BoughError {
  return new BoughError(
    "MERGE_CONFLICT",
    `merge of ${r.branch} into ${r.parent} is ${r.blockedReason?.replace(/^merge /u, "")}`,
    r.unmergeable.length > 0
      ? "record those changes as a migration (`bough migrate apply`) or undo them on the branch, then merge again; the parent was not changed"
      : "resolve them on the branch (or reset it), then merge again; the parent was not changed",
    r,
  );
}
/** Audited as refused (MERGE_CONFLICT) when blocked, dry runs included. */
export const mergeBranch = audited("branch.merge", mergeBranchNow, {
  outcome: (r) => (r.blocked ? "MERGE_CONFLICT" : null),
});

/** What the user agreed to: every planned statement, migrations included, in order. */
const planKey = (p: PreparedMerge) => JSON.stringify(p.plan.statements.map((s) => s.sql));

async function mergeRound(ctx: Ctx, o: MergeOptions, confirmed: string | null): Promise<Round> {
  const found = requireChildBranch(ctx, {
    ...o,
    what: "merged (it has no parent)",
    hint: "merge a branch created with `bough branch create`",
  });
  const { project } = found;
  for (const b of [found.branch, found.parent]) requireSettled(b, "merge");
  const branch = await startBranch(ctx, project, found.branch);
  const parent = await startBranch(ctx, project, found.parent);
  const prepared = await prepareMerge(ctx, { project, branch, parent });
  const report = (merged: boolean): Round => ({
    kind: "done",
    report: toReport(branch, parent, prepared, o, merged),
  });
  if (o.dryRun) return report(false);
  if (isBlocked(prepared)) {
    updateBranch(ctx.db, branch.id, { state: "conflicted", lastError: blockedReason(prepared) });
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
  const key = planKey(prepared);
  if (confirmed === null && o.confirm) return { kind: "confirm", prepared };
  if (confirmed !== null && confirmed !== key) {
    if (o.confirm) return { kind: "confirm", prepared };
    throw new BoughError(
      "MERGE_FAILED",
      `parent moved, plan changed: review again (the parent "${parent.name}" changed since the merge was planned and the new plan differs)`,
      `run \`bough branch merge ${branch.name} --dry-run\` to see the new plan, then merge again`,
    );
  }
  return applyRound(ctx, { o, project, branch, parent, prepared });
}

/** Rehearses and applies one confirmed plan; "stale" when the parent moved since planning. */
async function applyRound(
  ctx: Ctx,
  r: { o: MergeOptions; project: Project; branch: Branch; parent: Branch; prepared: PreparedMerge },
): Promise<Round> {
  const { project, branch, parent, prepared } = r;
  const op = beginBranchOperation(ctx, {
    project,
    branch,
    kind: "branch-merge",
    state: "merging",
    args: { parent: parent.name },
  });
  try {
    const rehearsalDir = join(ctx.paths.scratchDir(project), `merge-${op.id}`);
    advance(ctx.db, op, "rehearsing", { rehearsalDir });
    await rehearse(ctx, { project, parent, prepared, dir: rehearsalDir });
    faultPoint("merge:after-rehearsal");
    const landing: LandingRecord = {
      parentId: parent.id,
      postMergeHash: snapshotHash(
        expectedAfterMerge(prepared.parentSnapshot, prepared.diff.changes, prepared.branchSnapshot),
      ),
      mergeBase: JSON.stringify(prepared.branchSnapshot),
      baseFingerprint: baseFingerprintOf(prepared),
      migrations: prepared.migrations.map((m) => m.name),
    };
    advance(ctx.db, op, "applying", { ...landing });
    const outcome = await withClient(branchUrl(project, parent), (c) =>
      applyInTransaction(c, {
        migrations: prepared.migrations,
        statements: prepared.runnable,
        expectedHash: prepared.parentHash,
        lockTimeoutMs: r.o.lockTimeoutMs ?? 5000,
      }),
    );
    if (!outcome.applied) {
      // The parent's schema moved since planning: nothing was written; plan again.
      ctx.db.transaction(() => {
        updateBranch(ctx.db, branch.id, { state: "ready" });
        finishOperation(ctx.db, op, "rolled-back", "the parent moved since planning");
      })();
      return { kind: "stale", prepared, parent: parent.name };
    }
    faultPoint("merge:after-commit");
    finishMerged(ctx, {
      op,
      branchId: branch.id,
      mergeBase: landing.mergeBase,
      baseFingerprint: landing.baseFingerprint,
    });
    return { kind: "done", report: toReport(branch, parent, prepared, r.o, true) };
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
    platformChanges: p.platform,
    secretsMissingOnParent: p.secretsMissingOnParent ?? [],
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
