import { branchById, mergeBaseOf } from "../control/branches.ts";
import { lastMergeOf, type MergeRecord, mergeById } from "../control/merges.ts";
import { BoughError } from "../core/errors.ts";
import { quoteLiteral } from "../core/names.ts";
import type { Branch, Project } from "../core/types.ts";
import type { ApplyStatement } from "../merge/apply.ts";
import type { Statement } from "../merge/plan/index.ts";
import type { SideLabels } from "../merge/render/conflicts.ts";
import { audited } from "./audited.ts";
import { startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { requireSettled } from "./journaled.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import {
  inRounds,
  type MergeOptions,
  type MergeReport,
  type Round,
  requireMergeAllowed,
  settleRound,
} from "./merge.ts";
import { sha256 } from "./merge-apply.ts";
import { type PreparedMerge, prepareMerge } from "./merge-prepare.ts";
import type { MergeRoute } from "./merge-route.ts";
import { planRowRestores, restorePreview, restoreRows } from "./merge-undo-rows.ts";
import { chooseBase, withRecoveredClone } from "./pitr.ts";
import { historyConfig, historyWindow } from "./pitr-bases.ts";

export interface UndoOptions
  extends Pick<
    MergeOptions,
    "dryRun" | "confirm" | "acceptDataLoss" | "lockTimeoutMs" | "allowProtected"
  > {
  project: string;
  /** The merge to undo (`bough merges undo ID`)... */
  id?: number;
  /** ... or the last merge recorded on this branch (`bough branch merge NAME --undo`). */
  name?: string;
}

const UNDO_LABELS: SideLabels = { parent: "target now", branch: "before the merge" };

/**
 * Reverts an applied merge by the merge engine itself: a three-way merge whose base is
 * the target as the merge left it, whose "branch" side is the target before the merge
 * (recovered from its WAL history into a throwaway cluster), into the target as it is
 * now. What the target changed since in objects the merge touched conflicts, exactly as
 * in a merge, and nothing runs. Rehearsed, one transaction, journaled; the rows of
 * tables and columns the merge dropped are copied back from the recovered state in
 * that transaction.
 */
async function undoMergeNow(ctx: Ctx, o: UndoOptions): Promise<MergeReport> {
  return inRounds(ctx, o, (confirmed) => undoRound(ctx, o, confirmed));
}

export const undoMerge = audited("merge.undo", undoMergeNow, {
  outcome: (r) => (r.blocked ? "MERGE_CONFLICT" : null),
  measure: (r) => ({ statementsApplied: r.merged ? r.statements.length : 0 }),
});

async function undoRound(ctx: Ctx, o: UndoOptions, confirmed: string | null): Promise<Round> {
  const project = requireProject(ctx, o.project);
  const m = findMerge(ctx, project, o);
  const target = branchById(ctx.db, m.targetId);
  if (!target) throw new Error(`merge ${m.id}: its target branch is gone`);
  if (!o.dryRun) requireMergeAllowed(target, o, "undoing a merge into");
  requireSettled(target, "undo the merge");
  // The operation is recorded on the merge's owner while it exists, else on the target.
  const ownerRow = branchById(ctx.db, m.ownerId);
  const owner = ownerRow && ownerRow.id !== target.id ? ownerRow : target;
  if (owner !== target) requireSettled(owner, "undo the merge");
  await requireInHistory(ctx, project, target, m);
  const live = await startBranch(ctx, project, target);
  return withRecoveredClone(
    ctx,
    { project, source: live, target: { lsn: m.preLsn }, purpose: "undo" },
    async (preUrl) => {
      const prepared = await prepareMerge(ctx, {
        project,
        branch: live,
        parent: live,
        base: { json: m.postSnapshot, fingerprintJson: m.postFingerprint },
        recorded: false,
        labels: UNDO_LABELS,
        sourceUrl: preUrl,
        sourceName: `${target.name} before merge ${m.id}`,
      });
      const rows = await planRowRestores(preUrl, {
        pre: prepared.branchSnapshot,
        changes: prepared.diff.changes,
      });
      // Foreign keys of restored rows are added once the rows are back (they validate them).
      const deferred = rows.restores.length > 0 ? deferredKeys(prepared) : [];
      const runnable = prepared.runnable.filter((s) => !deferred.includes(s));
      const details = { mergeId: m.id, restored: [], notRestored: rows.notRestored };
      const route: MergeRoute = {
        kind: "undo",
        project,
        source: live,
        target: live,
        owner,
        base: { json: m.postSnapshot, fingerprintJson: m.postFingerprint },
        recorded: false,
        moveBase: false,
        landedState: owner.state,
        undoOf: m.id,
      };
      const restored: { objectId: string; rows: number }[] = [];
      const round = await settleRound(ctx, {
        o,
        route,
        prepared: {
          ...prepared,
          runnable,
          preview: `${undoHeader(m, target)}${prepared.preview}${restorePreview(rows, deferred)}`,
          history: {},
        },
        confirmed,
        undo: {
          ...landingOf(ctx, m, owner),
          mergeId: m.id,
          details: { ...details, restored },
          restore: async (client) => {
            // The rehearsal runs it too: what the real run reports is its own count.
            restored.length = 0;
            const counts = await restoreRows(client, {
              preUrl,
              plan: rows,
              after: [...deferred, ...migrationsForget(m.migrations)],
              offset: runnable.length,
            });
            restored.push(...counts);
          },
        },
      });
      return round;
    },
  );
}

function findMerge(ctx: Ctx, project: Project, o: UndoOptions): MergeRecord {
  if (o.id !== undefined) {
    const m = mergeById(ctx.db, project.id, o.id);
    if (!m) {
      throw new BoughError(
        "MERGE_NOT_FOUND",
        `project "${project.name}" has no merge ${o.id}`,
        "run `bough merges list` for the merges kept",
      );
    }
    if (m.undoneAt) {
      throw new BoughError(
        "INVALID_INPUT",
        `merge ${m.id} (${m.ownerName} into its target) was undone at ${m.undoneAt}`,
        "merge the branch again to redo it",
      );
    }
    return m;
  }
  const branch = requireBranch(ctx, project, o.name ?? "");
  const m = lastMergeOf(ctx.db, branch.id);
  if (!m) {
    throw new BoughError(
      "MERGE_NOT_FOUND",
      `branch "${branch.name}" has no applied merge to undo`,
      "run `bough merges list` for the merges kept (each can be undone by id)",
    );
  }
  return m;
}

/**
 * The pre-merge state is the target's history at the merge: inside its window, with a
 * base from before the merge (a reset since restarts the history: T0 moves past it).
 */
async function requireInHistory(
  ctx: Ctx,
  project: Project,
  target: Branch,
  m: MergeRecord,
): Promise<void> {
  const window = historyWindow(ctx, project, target);
  const kept = `${Math.round(historyConfig(ctx, project).retentionMs / 3_600_000)} h`;
  const hint = `undo works inside the history window (kept: ${kept}; \`bough project set --history 7d\` keeps more from now on)`;
  if (!window || Date.parse(m.appliedAt) < window.earliest.getTime()) {
    throw new BoughError(
      "INVALID_INPUT",
      `merge ${m.id} (applied ${m.appliedAt}) is outside the history window of "${target.name}" (${window ? `${window.earliest.toISOString()}..${window.now.toISOString()}` : "empty"}, kept ${kept}): its pre-merge state is gone`,
      hint,
    );
  }
  const base = await chooseBase(ctx, { project, source: target, target: { lsn: m.preLsn } });
  if (Date.parse(base.at) > Date.parse(m.appliedAt)) {
    throw new BoughError(
      "INVALID_INPUT",
      `the history of "${target.name}" restarted at ${base.at} (a reset), after merge ${m.id} (applied ${m.appliedAt}): its pre-merge state is gone`,
      hint,
    );
  }
}

/**
 * The owner's merge base goes back to what it was before the merge, so its next merge
 * carries the undone work again, unless something moved it since (a later merge, a
 * rebase, a reset). A merged branch is ready again.
 */
function landingOf(ctx: Ctx, m: MergeRecord, owner: Branch) {
  const mine = owner.id === m.ownerId;
  const current = mergeBaseOf(ctx.db, owner.id).mergeBase;
  const moveBase = mine && m.baseMoved && current !== null && sha256(current) === m.landedBaseHash;
  return {
    mergeBase: m.prevMergeBase,
    baseFingerprint: m.prevBaseFingerprint,
    moveBase,
    landedState: mine && m.kind === "merge" && owner.state === "merged" ? "ready" : owner.state,
  } as const;
}

/** Statements adding foreign keys the pre-merge state has: they run after the rows are back. */
function deferredKeys(p: PreparedMerge): Statement[] {
  return p.runnable.filter((s) => {
    const c = p.branchSnapshot.objects[s.objectId];
    return c?.kind === "constraint" && c.type === "f" && s.changeKind !== "drop";
  });
}

/** The merge's recorded migrations are forgotten with what they did, so a new merge replays them. */
function migrationsForget(names: string[]): ApplyStatement[] {
  if (names.length === 0) return [];
  const list = names.map(quoteLiteral).join(", ");
  return [
    { objectId: "bough.migrations", sql: `DELETE FROM bough.migrations WHERE name IN (${list})` },
  ];
}

function undoHeader(m: MergeRecord, target: Branch): string {
  return [
    `-- bough undo of merge ${m.id}: ${m.kind === "rebase" ? `rebase of ${m.ownerName} onto ${m.sourceName}` : `${m.sourceName} into ${target.name}`}, applied ${m.appliedAt}`,
    `-- three-way: base = ${target.name} right after the merge, "branch" = ${target.name} before it (recovered from its history), target = ${target.name} now`,
    "",
  ].join("\n");
}
