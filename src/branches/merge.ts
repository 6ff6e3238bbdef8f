import { join } from "node:path";
import { updateBranch } from "../control/branches.ts";
import { advance, finishOperation } from "../control/journal.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch } from "../core/types.ts";
import { applyInTransaction } from "../merge/apply.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import type { Change, Conflict } from "../merge/diff/changes.ts";
import type { Resolution, ResolvedConflict, Side } from "../merge/diff/resolve.ts";
import { expectedAfterMerge } from "../merge/expected.ts";
import { type FingerprintProblem, unmergeableMessage } from "../merge/fingerprint/index.ts";
import type { Statement } from "../merge/plan/index.ts";
import type { PlatformChange } from "../merge/platform/describe.ts";
import { REBASE_LABELS } from "../merge/render/conflicts.ts";
import { type DdlRef, linkChanges } from "../platform/ddl-log/links.ts";
import { readDdlLog } from "../platform/ddl-log/read.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { beginBranchOperation, requireSettled } from "./journaled.ts";
import { finishMerged, type LandingRecord, recordLanding } from "./merge-landed.ts";
import { type PreparedMerge, prepareMerge, type TakeOptions } from "./merge-prepare.ts";
import { rehearse } from "./merge-rehearse.ts";
import { type MergeRoute, mergeRouteOf, rebaseRouteOf } from "./merge-route.ts";
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
  /** Merge into this branch instead of the parent (a sibling, an ancestor, any branch of the project). */
  into?: string;
  /** Internal: set by rebaseBranch. */
  rebase?: boolean;
  /** Conflicts settled by taking a side (`--take`, `--take-all`), beside those recorded on the branch. */
  take?: TakeOptions;
  /**
   * false: a plan with a statement that deletes data is refused, since nobody saw the
   * preview (-y, the API, MCP pass false unless the caller said yes); undefined: not asked.
   */
  acceptDataLoss?: boolean;
  /** How long a statement may wait for a lock on the parent (default 5 s). */
  lockTimeoutMs?: number;
  /**
   * Merge into a protected target other than the root: refused without it. Merges into
   * the root (main) never need it: merging into main is the reviewed way to change it.
   */
  allowProtected?: boolean;
}

export interface MergeReport {
  /** merge: into the parent; into: into another branch (`--into`); rebase: the parent's changes onto the branch. */
  kind: MergeRoute["kind"];
  branch: string;
  /** The branch's parent (merge, rebase) or the `--into` target. */
  parent: string;
  /** The branch the statements ran on (the parent, the --into target, or for a rebase the branch). */
  into: string;
  dryRun: boolean;
  blocked: boolean;
  merged: boolean;
  migrations: string[];
  changes: Change[];
  conflicts: Conflict[];
  /** Conflicts settled by a resolution (flag or recorded) and what each applies. */
  resolved: ResolvedConflict[];
  /** Recorded resolutions that no longer match their conflict (not used). */
  staleResolutions: Resolution[];
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
  /** Change id → the source branch's recorded DDL statements that touched its object, oldest first. */
  changeHistory: Record<string, DdlRef[]>;
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
    `${r.kind === "rebase" ? `rebase of ${r.branch} onto ${r.parent}` : `merge of ${r.branch} into ${r.into}`} is ${r.blockedReason?.replace(/^merge /u, "")}`,
    r.unmergeable.length > 0
      ? "record those changes as a migration (`bough migrate apply`) or undo them on the branch, then merge again; the parent was not changed"
      : "resolve them on the branch (or reset it), then merge again; the parent was not changed",
    r,
  );
}
/**
 * Audited as refused (MERGE_CONFLICT) when blocked, dry runs included; a merge that landed
 * records how many statements it applied (migrations included), which /metrics counts.
 */
export const mergeBranch = audited("branch.merge", mergeBranchNow, {
  outcome: (r) => (r.blocked ? "MERGE_CONFLICT" : null),
  measure: (r) => ({ statementsApplied: r.merged ? r.statements.length : 0 }),
});

/**
 * `bough branch rebase NAME`: the parent's schema and config changes since the merge
 * base are applied onto the branch by the same three-way engine the other way round
 * (rehearsed on a clone of the branch, one transaction), its data and own changes kept;
 * the merge base moves to the parent now, so the next merge holds only the branch's work.
 */
export const rebaseBranch = audited(
  "branch.rebase",
  (ctx: Ctx, o: Omit<MergeOptions, "into" | "rebase">) =>
    mergeBranchNow(ctx, { ...o, rebase: true }),
  { outcome: (r) => (r.blocked ? "MERGE_CONFLICT" : null) },
);

function swapSides(t: TakeOptions | undefined): TakeOptions | undefined {
  if (!t) return t;
  const other = (s: Side | undefined) =>
    s === "branch" ? "parent" : s === "parent" ? "branch" : s;
  return { branch: t.parent, parent: t.branch, all: other(t.all) };
}

function requireMergeAllowed(target: Branch, o: MergeOptions): void {
  if (!target.protected || target.parentId === null || o.allowProtected) return;
  throw new BoughError(
    "BRANCH_PROTECTED",
    `branch "${target.name}" is protected: ${o.rebase ? "rebasing" : "merging into"} it needs an explicit yes`,
    `pass --allow-protected (API/MCP: allowProtected), or \`bough branch unprotect ${target.name}\``,
  );
}

/** What the user agreed to: every planned statement, migrations included, in order. */
const planKey = (p: PreparedMerge) => JSON.stringify(p.plan.statements.map((s) => s.sql));

async function mergeRound(ctx: Ctx, o: MergeOptions, confirmed: string | null): Promise<Round> {
  const route = o.rebase ? rebaseRouteOf(ctx, o) : mergeRouteOf(ctx, o);
  const { project } = route;
  if (!o.dryRun) requireMergeAllowed(route.target, o);
  for (const b of [route.source, route.target]) requireSettled(b, o.rebase ? "rebase" : "merge");
  const source = await startBranch(ctx, project, route.source);
  const target = await startBranch(ctx, project, route.target);
  const prepared = await prepareMerge(ctx, {
    project,
    branch: source,
    parent: target,
    // The user's "branch" is the rebased branch: the engine's target, its "parent" side.
    take: o.rebase ? swapSides(o.take) : o.take,
    base: route.base,
    recorded: route.recorded,
    labels: o.rebase ? REBASE_LABELS : undefined,
  });
  const reviewed: Reviewed = {
    ...prepared,
    history: linkChanges(
      prepared.diff.changes,
      await withClient(branchUrl(project, source), (c) => readDdlLog(c)),
    ),
  };
  const report = (merged: boolean): Round => ({
    kind: "done",
    report: toReport(route, reviewed, o, merged),
  });
  if (o.dryRun) return report(false);
  if (isBlocked(prepared)) {
    updateBranch(ctx.db, route.owner.id, {
      state: "conflicted",
      lastError: blockedReason(prepared),
    });
    return report(false);
  }
  if (prepared.runnable.length === 0 && prepared.migrations.length === 0) {
    ctx.db.transaction(() =>
      recordLanding(ctx, {
        branchId: route.owner.id,
        mergeBase: JSON.stringify(prepared.branchSnapshot),
        baseFingerprint: baseFingerprintOf(prepared),
        moveBase: route.moveBase,
        landedState: route.landedState,
      }),
    )();
    return report(true);
  }
  if (!o.confirm && o.acceptDataLoss === false) refuseUnseenDataLoss(route, prepared);
  const key = planKey(prepared);
  if (confirmed === null && o.confirm) return { kind: "confirm", prepared };
  if (confirmed !== null && confirmed !== key) {
    if (o.confirm) return { kind: "confirm", prepared };
    throw new BoughError(
      "MERGE_FAILED",
      `${route.kind === "merge" ? "parent" : "target"} moved, plan changed: review again (the ${route.kind === "merge" ? "parent" : "target"} "${target.name}" changed since the merge was planned and the new plan differs)`,
      `run \`bough branch ${o.rebase ? "rebase" : "merge"} ${route.owner.name} --dry-run\` to see the new plan, then try again`,
    );
  }
  return applyRound(ctx, { o, route: { ...route, source, target }, prepared: reviewed });
}

/** Rehearses and applies one confirmed plan; "stale" when the target moved since planning. */
async function applyRound(
  ctx: Ctx,
  r: { o: MergeOptions; route: MergeRoute; prepared: Reviewed },
): Promise<Round> {
  const { route, prepared } = r;
  const { project, target, owner } = route;
  const op = beginBranchOperation(ctx, {
    project,
    branch: owner,
    kind: "branch-merge",
    state: "merging",
    args: { parent: target.name, route: route.kind },
  });
  try {
    const rehearsalDir = join(ctx.paths.scratchDir(project), `merge-${op.id}`);
    advance(ctx.db, op, "rehearsing", { rehearsalDir });
    await rehearse(ctx, { project, parent: target, prepared, dir: rehearsalDir, opId: op.id });
    faultPoint("merge:after-rehearsal");
    const landing: LandingRecord = {
      parentId: target.id,
      postMergeHash: snapshotHash(
        expectedAfterMerge(prepared.parentSnapshot, prepared.diff.changes, prepared.branchSnapshot),
      ),
      mergeBase: JSON.stringify(prepared.branchSnapshot),
      baseFingerprint: baseFingerprintOf(prepared),
      migrations: prepared.migrations.map((m) => m.name),
      moveBase: route.moveBase,
      landedState: route.landedState,
    };
    advance(ctx.db, op, "applying", { ...landing });
    // The target's DDL log tells the merge's statements by their application_name.
    const applyUrl = `${branchUrl(project, target)}?application_name=${encodeURIComponent(`bough ${route.kind === "rebase" ? "rebase" : "merge"} ${route.source.name}`)}`;
    const outcome = await withClient(applyUrl, (c) =>
      applyInTransaction(c, {
        migrations: prepared.migrations,
        statements: prepared.runnable,
        expectedHash: prepared.parentHash,
        lockTimeoutMs: r.o.lockTimeoutMs ?? 5000,
      }),
    );
    if (!outcome.applied) {
      // The target's schema moved since planning: nothing was written; plan again.
      ctx.db.transaction(() => {
        updateBranch(ctx.db, owner.id, { state: owner.state === "merged" ? "merged" : "ready" });
        finishOperation(ctx.db, op, "rolled-back", "the target moved since planning");
      })();
      return { kind: "stale", prepared, parent: target.name };
    }
    faultPoint("merge:after-commit");
    finishMerged(ctx, { op, branchId: owner.id, ...landing });
    return { kind: "done", report: toReport(route, prepared, r.o, true) };
  } catch (err) {
    ctx.db.transaction(() => {
      updateBranch(ctx.db, owner.id, {
        state: (err as BoughError).code === "MERGE_CONFLICT" ? "conflicted" : "ready",
        lastError: (err as Error).message,
      });
      finishOperation(ctx.db, op, "failed", (err as Error).message);
    })();
    throw err;
  }
}

/** A prepared merge with the source's DDL statements linked to its changes. */
type Reviewed = PreparedMerge & { history: Record<string, DdlRef[]> };

function toReport(route: MergeRoute, p: Reviewed, o: MergeOptions, merged: boolean): MergeReport {
  return {
    kind: route.kind,
    branch: route.owner.name,
    parent: route.kind === "rebase" ? route.source.name : route.target.name,
    into: route.target.name,
    dryRun: o.dryRun ?? false,
    blocked: isBlocked(p),
    blockedReason: isBlocked(p) ? blockedReason(p) : null,
    merged,
    migrations: p.migrations.map((m) => m.name),
    changes: p.diff.changes,
    conflicts: p.diff.conflicts,
    resolved: p.resolved,
    staleResolutions: p.staleResolutions,
    parentChanges: p.diff.parentChanges,
    unmergeable: p.fingerprint.unmergeable,
    fingerprintSkipped: p.fingerprint.skipped,
    statements: p.plan.statements,
    platformChanges: p.platform,
    secretsMissingOnParent: p.secretsMissingOnParent ?? [],
    preview: p.preview,
    changeHistory: p.history,
  };
}

/** Nobody reviewed the preview (-y, API, MCP): deleting data needs its own explicit yes. */
function refuseUnseenDataLoss(route: MergeRoute, p: PreparedMerge): void {
  const lossy = p.plan.statements.filter((s) => s.hazards.includes("deletes-data"));
  if (lossy.length === 0) return;
  throw new BoughError(
    "NOT_CONFIRMED",
    `the ${route.kind === "rebase" ? "rebase" : "merge"} of ${route.owner.name} deletes data on ${route.target.name}: ${lossy.map((s) => s.objectId).join(", ")}`,
    `review it with \`bough branch ${route.kind === "rebase" ? "rebase" : "merge"} ${route.owner.name} --dry-run\`, then pass --accept-data-loss (API and MCP: acceptDataLoss) to go on without a prompt`,
    { statements: lossy },
  );
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
