import { createHash } from "node:crypto";
import { join } from "node:path";
import type pg from "pg";
import { mergeBaseOf, updateBranch } from "../control/branches.ts";
import { advance, finishOperation } from "../control/journal.ts";
import type { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { BranchState } from "../core/types.ts";
import { applyInTransaction } from "../merge/apply.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import { expectedAfterMerge } from "../merge/expected.ts";
import type { DdlRef } from "../platform/ddl-log/links.ts";
import { branchUrl } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { beginBranchOperation } from "./journaled.ts";
import { finishMerged, type KeptMerge, type LandingRecord } from "./merge-landed.ts";
import type { PreparedMerge } from "./merge-prepare.ts";
import { rehearse } from "./merge-rehearse.ts";
import type { MergeRoute } from "./merge-route.ts";
import { withClient } from "./sql.ts";

/** A prepared merge with the source's DDL statements linked to its changes. */
export type Reviewed = PreparedMerge & { history: Record<string, DdlRef[]> };

/** How an undo lands instead of a merge (src/branches/merge-undo.ts). */
export interface UndoLanding {
  mergeId: number;
  /** The owner's merge base to go back to (null: T0), when moveBase. */
  mergeBase: string | null;
  baseFingerprint: string | null;
  moveBase: boolean;
  landedState: BranchState;
  /** Restores the rows the merge dropped, after the statements, inside the transaction. */
  restore: (client: pg.ClientBase) => Promise<void>;
}

export type ApplyResult = { kind: "applied" } | { kind: "stale" };

/**
 * Rehearses and applies one confirmed plan in one transaction on the route's target;
 * "stale" when the target moved since planning (nothing written). A merge is kept for
 * undo: the target's WAL insert position just before COMMIT is journaled inside the
 * transaction, so recovering the target's history to it (exclusive) is the state before
 * the merge, with everything else committed until then.
 */
export async function applyRound(
  ctx: Ctx,
  r: { route: MergeRoute; prepared: Reviewed; lockTimeoutMs?: number; undo?: UndoLanding },
): Promise<ApplyResult> {
  const { route, prepared, undo } = r;
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
    const rehearsed = await rehearse(ctx, {
      project,
      parent: target,
      prepared,
      dir: rehearsalDir,
      opId: op.id,
      beforeCommit: undo?.restore,
    });
    faultPoint("merge:after-rehearsal");
    const post = expectedAfterMerge(
      prepared.parentSnapshot,
      prepared.diff.changes,
      prepared.branchSnapshot,
    );
    const landing: LandingRecord = {
      parentId: target.id,
      postMergeHash: snapshotHash(post),
      migrations: prepared.migrations.map((m) => m.name),
      ...(undo
        ? {
            mergeBase: undo.mergeBase,
            baseFingerprint: undo.baseFingerprint,
            moveBase: undo.moveBase,
            landedState: undo.landedState,
            undoOf: undo.mergeId,
          }
        : {
            mergeBase: JSON.stringify(prepared.branchSnapshot),
            baseFingerprint: baseFingerprintOf(prepared),
            moveBase: route.moveBase,
            landedState: route.landedState,
            kept: keptOf(ctx, route, prepared, {
              post: JSON.stringify(post),
              fingerprint: rehearsed.fingerprint ? JSON.stringify(rehearsed.fingerprint) : null,
            }),
          }),
    };
    advance(ctx.db, op, "applying", { ...landing });
    // The target's DDL log tells the merge's statements by their application_name.
    const applyUrl = `${branchUrl(project, target)}?application_name=${encodeURIComponent(applicationName(route))}`;
    const outcome = await withClient(applyUrl, (c) =>
      applyInTransaction(c, {
        migrations: prepared.migrations,
        statements: prepared.runnable,
        expectedHash: prepared.parentHash,
        lockTimeoutMs: r.lockTimeoutMs ?? 5000,
        beforeCommit: async (client) => {
          await undo?.restore(client);
          const lsn = await client.query<{ lsn: string }>(
            "SELECT pg_current_wal_insert_lsn()::text AS lsn",
          );
          advance(ctx.db, op, "applying", { preLsn: lsn.rows[0].lsn });
        },
      }),
    );
    if (!outcome.applied) {
      // The target's schema moved since planning: nothing was written; plan again.
      ctx.db.transaction(() => {
        updateBranch(ctx.db, owner.id, { state: owner.state === "merged" ? "merged" : "ready" });
        finishOperation(ctx.db, op, "rolled-back", "the target moved since planning");
      })();
      return { kind: "stale" };
    }
    faultPoint("merge:after-commit");
    finishMerged(ctx, {
      op,
      branchId: owner.id,
      ...landing,
      preLsn: op.args.preLsn as string,
    });
    return { kind: "applied" };
  } catch (err) {
    ctx.db.transaction(() => {
      updateBranch(ctx.db, owner.id, {
        // A failed undo leaves its owner as it was (a merged branch stays merged).
        state: undo
          ? owner.state
          : (err as BoughError).code === "MERGE_CONFLICT"
            ? "conflicted"
            : "ready",
        lastError: (err as Error).message,
      });
      finishOperation(ctx.db, op, "failed", (err as Error).message);
    })();
    throw err;
  }
}

const applicationName = (route: MergeRoute) =>
  route.kind === "undo"
    ? `bough undo merge ${route.undoOf}`
    : `bough ${route.kind === "rebase" ? "rebase" : "merge"} ${route.source.name}`;

/** What undo needs of a merge, read before it lands (the owner's base as it is before). */
function keptOf(
  ctx: Ctx,
  route: MergeRoute,
  prepared: PreparedMerge,
  o: { post: string; fingerprint: string | null },
): KeptMerge {
  const before = mergeBaseOf(ctx.db, route.owner.id);
  return {
    projectId: route.project.id,
    kind: route.kind === "undo" ? "merge" : route.kind,
    ownerId: route.owner.id,
    ownerName: route.owner.name,
    sourceName: route.source.name,
    targetId: route.target.id,
    postSnapshot: o.post,
    postFingerprint: o.fingerprint,
    statements: JSON.stringify(prepared.plan.statements.map((s) => s.sql)),
    migrations: prepared.migrations.map((m) => m.name),
    baseMoved: route.moveBase,
    landedBaseHash: route.moveBase ? sha256(JSON.stringify(prepared.branchSnapshot)) : null,
    prevMergeBase: before.mergeBase,
    prevBaseFingerprint: before.baseFingerprint,
  };
}

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** The branch's fingerprint becomes the new base with its snapshot (null keeps the check off, as before). */
export const baseFingerprintOf = (p: PreparedMerge) =>
  p.fingerprints.branch ? JSON.stringify(p.fingerprints.branch) : null;
