import { updateBranch } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch } from "../core/types.ts";
import { type MissingConversion, missingConversionLines } from "../merge/casts.ts";
import type { Change, Conflict } from "../merge/diff/changes.ts";
import type { Resolution, ResolvedConflict, Side } from "../merge/diff/resolve.ts";
import { type FingerprintProblem, unmergeableMessage } from "../merge/fingerprint/index.ts";
import type { Statement } from "../merge/plan/index.ts";
import type { PlatformChange } from "../merge/platform/describe.ts";
import { parseRenameHint, renameHintText } from "../merge/renames/hints.ts";
import type { RenameSuggestion } from "../merge/renames/suggest.ts";
import { REBASE_LABELS } from "../merge/render/conflicts.ts";
import { type DdlRef, linkChanges } from "../platform/ddl-log/links.ts";
import { audited } from "./audited.ts";
import { startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireSettled } from "./journaled.ts";
import { applyRound, baseFingerprintOf, type Reviewed, type UndoLanding } from "./merge-apply.ts";
import { recordLanding } from "./merge-landed.ts";
import { type PreparedMerge, prepareMerge, type TakeOptions } from "./merge-prepare.ts";
import { type MergeRoute, mergeRouteOf, rebaseRouteOf } from "./merge-route.ts";

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
  /**
   * Like acceptDataLoss, for a migration that reaches outside the database (runs a
   * program, touches server files, loads code): it runs on the parent as superuser.
   */
  acceptServerAccess?: boolean;
  /**
   * `--rename table:public.a=public.b` / `column:public.t.a=b`: a drop + create on the
   * branch that is one object renamed; the target renames it in place and keeps its rows.
   */
  renames?: string[];
  /** How long a statement may wait for a lock on the parent (default 5 s). */
  lockTimeoutMs?: number;
  /**
   * Merge into a protected target other than the root: refused without it. Merges into
   * the root (main) never need it: merging into main is the reviewed way to change it.
   */
  allowProtected?: boolean;
}

export interface MergeReport {
  /** merge: into the parent; into: into another branch (`--into`); rebase: the parent's changes onto the branch; undo: a merge reverted. */
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
  /** Unmodelled changes that change no results (planner statistics, storage, comments): merged without them, by name. */
  notCarried: FingerprintProblem[];
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
  /** The `--rename` hints applied first, as written back (`table:public.a=public.b`). */
  renames: string[];
  /** Drop + create pairs that look like renames, each with the `--rename` flag that keeps its rows. */
  renameSuggestions: RenameSuggestion[];
  /** Column type changes with no cast and no USING of the branch's own: they block the merge. */
  conversionsMissing: MissingConversion[];
  /** An undo (kind "undo"): which merge, and the rows it brings back. */
  undo?: UndoDetails;
}

/** What an undo reverts and restores beside the schema (src/branches/merge-undo.ts). */
export interface UndoDetails {
  mergeId: number;
  /** Tables and columns whose rows come back from the pre-merge state. */
  restored: { objectId: string; rows: number }[];
  /** What could not be restored, each with why (a column of a table without a primary key). */
  notRestored: string[];
}

const MAX_REPLANS = 3;

/** What one locked round of a merge ended with. */
export type Round =
  | { kind: "done"; report: MergeReport }
  | { kind: "confirm"; prepared: PreparedMerge }
  | { kind: "stale"; prepared: PreparedMerge; parent: string };

/**
 * Merges a branch into its parent: three-way diff, plan, rehearsal on a copy-on-write
 * clone of the parent, then the same statements on the parent in one transaction.
 * Blocked merges and failures leave the parent exactly as it was.
 */
const mergeBranchNow = (ctx: Ctx, o: MergeOptions): Promise<MergeReport> =>
  inRounds(ctx, o, (confirmed) => mergeRound(ctx, o, confirmed));

/**
 * The question to the user is asked between two locked rounds (other commands run
 * meanwhile); what is applied is always a plan that was confirmed (the same
 * statements), planned again after the answer.
 */
export async function inRounds(
  ctx: Ctx,
  o: Pick<MergeOptions, "confirm">,
  round: (confirmed: string | null) => Promise<Round>,
): Promise<MergeReport> {
  let confirmed: string | null = null;
  for (let stale = 0; ; ) {
    const r = await exclusive(ctx, () => round(confirmed));
    if (r.kind === "done") return r.report;
    if (r.kind === "stale") {
      confirmed ??= planKey(r.prepared);
      if (++stale >= MAX_REPLANS) {
        throw new BoughError(
          "MERGE_FAILED",
          `the target "${r.parent}" kept changing while merging`,
          "retry when schema changes on it have stopped",
        );
      }
      continue;
    }
    await o.confirm?.(r.prepared.preview, { again: confirmed !== null });
    confirmed = planKey(r.prepared);
  }
}

/** The error every interface reports a blocked (non dry-run) merge with; the report is its details. */
export function mergeBlockedError(r: MergeReport): BoughError {
  const what =
    r.kind === "rebase"
      ? `rebase of ${r.branch} onto ${r.parent}`
      : r.kind === "undo"
        ? `undo of merge ${r.undo?.mergeId} (${r.branch} into ${r.into})`
        : `merge of ${r.branch} into ${r.into}`;
  return new BoughError(
    "MERGE_CONFLICT",
    `${what} is ${r.blockedReason?.replace(/^merge /u, "")}`,
    r.kind === "undo"
      ? `${r.into} changed what the merge touched since: change it back (or resolve by hand), then undo again; nothing was changed`
      : r.unmergeable.length > 0
        ? "record those changes as a migration (`bough migrate apply`) or undo them on the branch, then merge again; the parent was not changed"
        : r.conversionsMissing.length > 0 && r.conflicts.length === 0
          ? "record each type change with its USING as a migration (`bough migrate apply`; undo the direct change on the branch first), then merge again; the parent was not changed"
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

/** Writing into a protected target other than the root needs allowProtected. */
export function requireMergeAllowed(
  target: Branch,
  o: Pick<MergeOptions, "allowProtected">,
  doing: string,
): void {
  if (!target.protected || target.parentId === null || o.allowProtected) return;
  throw new BoughError(
    "BRANCH_PROTECTED",
    `branch "${target.name}" is protected: ${doing} it needs an explicit yes`,
    `pass --allow-protected (API/MCP: allowProtected), or \`bough branch unprotect ${target.name}\``,
  );
}

/** What the user agreed to: every planned statement, migrations included, in order. */
const planKey = (p: PreparedMerge) => JSON.stringify(p.plan.statements.map((s) => s.sql));

async function mergeRound(ctx: Ctx, o: MergeOptions, confirmed: string | null): Promise<Round> {
  const route = o.rebase ? rebaseRouteOf(ctx, o) : mergeRouteOf(ctx, o);
  const { project } = route;
  if (!o.dryRun) requireMergeAllowed(route.target, o, o.rebase ? "rebasing" : "merging into");
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
    renames: (o.renames ?? []).map(parseRenameHint),
  });
  const reviewed: Reviewed = {
    ...prepared,
    history: linkChanges(prepared.diff.changes, prepared.ddlLog),
  };
  return settleRound(ctx, {
    o,
    route: { ...route, source, target },
    prepared: reviewed,
    confirmed,
  });
}

/** What settling a round reads of the caller's options. */
export type RoundOptions = Pick<
  MergeOptions,
  "dryRun" | "confirm" | "acceptDataLoss" | "acceptServerAccess" | "lockTimeoutMs"
>;

/**
 * What a prepared round does: report a dry run or a blocked plan, land an empty one,
 * ask for confirmation, or rehearse and apply the confirmed plan.
 */
export async function settleRound(
  ctx: Ctx,
  r: {
    o: RoundOptions;
    route: MergeRoute;
    prepared: Reviewed;
    confirmed: string | null;
    undo?: UndoLanding & { details: UndoDetails };
  },
): Promise<Round> {
  const { o, route, prepared, confirmed, undo } = r;
  const report = (merged: boolean): Round => ({
    kind: "done",
    report: { ...toReport(route, prepared, o, merged), ...(undo ? { undo: undo.details } : {}) },
  });
  if (o.dryRun) return report(false);
  if (isBlocked(prepared)) {
    // A blocked undo leaves the merge's owner as it is: its own merge is not in question.
    if (!undo)
      updateBranch(ctx.db, route.owner.id, {
        state: "conflicted",
        lastError: blockedReason(prepared),
      });
    return report(false);
  }
  if (!undo && prepared.runnable.length === 0 && prepared.migrations.length === 0) {
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
  if (!o.confirm && o.acceptServerAccess === false) refuseUnseenServerAccess(route, prepared);
  const key = planKey(prepared);
  if (confirmed === null && o.confirm) return { kind: "confirm", prepared };
  if (confirmed !== null && confirmed !== key) {
    if (o.confirm) return { kind: "confirm", prepared };
    throw new BoughError(
      "MERGE_FAILED",
      `${route.kind === "merge" ? "parent" : "target"} moved, plan changed: review again (the ${route.kind === "merge" ? "parent" : "target"} "${route.target.name}" changed since the merge was planned and the new plan differs)`,
      `run \`${commandOf(route)} --dry-run\` to see the new plan, then try again`,
    );
  }
  const applied = await applyRound(ctx, {
    route,
    prepared,
    lockTimeoutMs: o.lockTimeoutMs,
    undo,
  });
  if (applied.kind === "stale") return { kind: "stale", prepared, parent: route.target.name };
  return report(true);
}

/** The command that runs this route again. */
const commandOf = (route: MergeRoute) =>
  route.kind === "undo"
    ? `bough merges undo ${route.undoOf}`
    : `bough branch ${route.kind === "rebase" ? "rebase" : "merge"} ${route.owner.name}`;

function toReport(route: MergeRoute, p: Reviewed, o: RoundOptions, merged: boolean): MergeReport {
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
    notCarried: p.fingerprint.notCarried,
    fingerprintSkipped: p.fingerprint.skipped,
    statements: p.plan.statements,
    platformChanges: p.platform,
    secretsMissingOnParent: p.secretsMissingOnParent ?? [],
    preview: p.preview,
    changeHistory: p.history,
    renames: p.renames.map(renameHintText),
    renameSuggestions: p.renameSuggestions,
    conversionsMissing: p.conversionsMissing,
  };
}

/** Nobody reviewed the preview (-y, API, MCP): deleting data needs its own explicit yes. */
function refuseUnseenDataLoss(route: MergeRoute, p: PreparedMerge): void {
  const lossy = p.plan.statements.filter((s) => s.hazards.includes("deletes-data"));
  if (lossy.length === 0) return;
  const what = route.kind === "rebase" ? "rebase" : route.kind === "undo" ? "undo" : "merge";
  const renames = p.renameSuggestions.map((r) => r.flag);
  throw new BoughError(
    "NOT_CONFIRMED",
    `the ${what} of ${route.kind === "undo" ? `merge ${route.undoOf}` : route.owner.name} deletes data on ${route.target.name}: ${lossy.map((s) => s.objectId).join(", ")}`,
    `${renames.length > 0 ? `if these were renames, add ${renames.join(" ")} (API and MCP: renames) to keep the rows; otherwise ` : ""}review it with \`${commandOf(route)} --dry-run\`, then pass --accept-data-loss (API and MCP: acceptDataLoss) to go on without a prompt`,
    { statements: lossy, renameSuggestions: p.renameSuggestions },
  );
}

/** Nobody reviewed the preview: a migration that runs programs or reads server files needs its own yes. */
function refuseUnseenServerAccess(route: MergeRoute, p: PreparedMerge): void {
  const outside = p.plan.statements.filter((s) =>
    s.hazards.includes("reaches-outside-the-database"),
  );
  if (outside.length === 0) return;
  throw new BoughError(
    "NOT_CONFIRMED",
    `the ${route.kind === "rebase" ? "rebase" : "merge"} of ${route.owner.name} runs migrations that reach outside the database on ${route.target.name} as superuser (programs, server files, untrusted code): ${outside.map((s) => s.objectId).join(", ")}`,
    `read them with \`${commandOf(route)} --dry-run\`, then pass --accept-server-access (API and MCP: acceptServerAccess) to go on without a prompt`,
    { statements: outside },
  );
}

/**
 * Conflicts and changes bough cannot merge both block before anything runs: the branch
 * must be changed (resolved, undone, or the change recorded as a migration) first.
 */
const isBlocked = (p: PreparedMerge) =>
  p.diff.conflicts.length > 0 ||
  p.fingerprint.unmergeable.length > 0 ||
  p.conversionsMissing.length > 0;

function blockedReason(p: PreparedMerge): string {
  const reasons: string[] = [];
  if (p.diff.conflicts.length > 0) reasons.push(`${p.diff.conflicts.length} conflict(s)`);
  if (p.fingerprint.unmergeable.length > 0)
    reasons.push(unmergeableMessage(p.fingerprint.unmergeable));
  if (p.conversionsMissing.length > 0)
    reasons.push(
      `${p.conversionsMissing.length} column type change(s) need a USING expression: ${missingConversionLines(p.conversionsMissing).join("; ")}`,
    );
  return `merge blocked: ${reasons.join("; ")}`;
}
