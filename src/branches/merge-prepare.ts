import type pg from "pg";
import { mergeBaseOf } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import type { Snapshot } from "../merge/catalog/snapshot.ts";
import type { DiffResult } from "../merge/diff/changes.ts";
import { diff3 } from "../merge/diff/diff3.ts";
import { introspect } from "../merge/introspect/index.ts";
import { executableSql } from "../merge/migration-sql.ts";
import {
  listMigrations,
  type Migration,
  pendingMigrations,
  runAndRecord,
} from "../merge/migrations.ts";
import { type Plan, plan, type Statement } from "../merge/plan/index.ts";
import { renderPreview } from "../merge/render/index.ts";
import { branchUrl } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { withScratchClone } from "./scratch-clone.ts";
import { withClient } from "./sql.ts";

/** Everything a merge decides before it writes anything: read-only on both sides. */
export interface PreparedMerge {
  base: Snapshot;
  branchSnapshot: Snapshot;
  /** The parent now, with the branch's pending migrations replayed (on a throwaway clone). */
  parentSnapshot: Snapshot;
  /** Hash of the parent's schema as it is now, before any migration: apply checks it. */
  parentHash: string;
  migrations: Migration[];
  /** The plan's DDL and data statements; its [MIGRATION] ones run as `migrations`, recorded. */
  runnable: Statement[];
  diff: DiffResult;
  plan: Plan;
  preview: string;
}

/**
 * Three-way merge inputs: T0 (the stored merge base), the parent now and the branch now.
 * The branch's migrations the parent lacks are replayed on a throwaway clone of the
 * parent, so what they change is seen as already done on both sides and the diff
 * covers only what is left: nothing is applied twice.
 */
export async function prepareMerge(
  ctx: Ctx,
  o: { project: Project; branch: Branch; parent: Branch },
): Promise<PreparedMerge> {
  const { t0Base, mergeBase } = mergeBaseOf(ctx.db, o.branch.id);
  const baseJson = mergeBase ?? t0Base;
  if (!baseJson) {
    throw new BoughError(
      "MERGE_FAILED",
      `branch "${o.branch.name}" has no recorded merge base`,
      "it was created by an older bough; reset it or create a new branch",
    );
  }
  const base = JSON.parse(baseJson) as Snapshot;
  const { branchSnapshot, branchMigrations } = await withClient(
    branchUrl(o.project, o.branch),
    async (c) => ({
      branchSnapshot: await introspect(c),
      branchMigrations: await listMigrations(c),
    }),
  );
  const parentSide = await parentWithMigrations(ctx, {
    project: o.project,
    parent: o.parent,
    branchMigrations,
    branchName: o.branch.name,
  });
  const diff = diff3(base, parentSide.snapshot, branchSnapshot);
  const planned = plan(diff, {
    base,
    parent: parentSide.snapshot,
    branch: branchSnapshot,
    migrations: parentSide.migrations,
  });
  const preview = renderPreview({
    plan: planned,
    diff,
    branch: o.branch.name,
    parent: o.parent.name,
  });
  return {
    base,
    branchSnapshot,
    parentSnapshot: parentSide.snapshot,
    parentHash: parentSide.hash,
    migrations: parentSide.migrations,
    runnable: planned.statements.filter((st) => st.layer !== "migration"),
    diff,
    plan: planned,
    preview,
  };
}

/**
 * The parent as the plan must see it: as it is now, plus the branch's pending migrations.
 * Without pending migrations the parent is only read. With some, they are replayed on a
 * throwaway clone of the parent, never on the parent itself: migration text can have
 * effects a rolled-back transaction does not undo (nextval, COPY … TO PROGRAM, dblink),
 * and diff and dry-run must write nothing to the parent.
 */
async function parentWithMigrations(
  ctx: Ctx,
  o: { project: Project; parent: Branch; branchMigrations: Migration[]; branchName: string },
): Promise<{ snapshot: Snapshot; hash: string; migrations: Migration[] }> {
  const read = async (client: pg.ClientBase) => {
    const pending = pendingOf(o.branchMigrations, await listMigrations(client), o.branchName);
    const now = await introspect(client);
    return { pending, now, hash: snapshotHash(now) };
  };
  const first = await withClient(branchUrl(o.project, o.parent), read);
  if (first.pending.length === 0) {
    return { snapshot: first.now, hash: first.hash, migrations: [] };
  }
  // Refuse transaction control and the like before cloning anything (runAndRecord checks too).
  for (const m of first.pending) await executableSql(m);
  return withScratchClone(ctx, { project: o.project, source: o.parent, purpose: "replay" }, (url) =>
    withClient(url, async (client) => {
      // Read again on the clone: the plan and its hash describe exactly what was replayed on.
      const { pending, hash } = await read(client);
      await client.query("BEGIN");
      for (const m of pending) {
        await runAndRecord(client, m).catch((err: BoughError) => {
          if (err.code === "MIGRATION_REFUSED") throw err;
          throw new BoughError(
            "MERGE_CONFLICT",
            `the branch's migration ${m.name} does not apply to the parent as it is now: ${err.message}`,
            "the parent changed what this migration touches: reset the branch or rewrite the migration, then merge again",
          );
        });
      }
      return { snapshot: await introspect(client), hash, migrations: pending };
    }),
  );
}

function pendingOf(branch: Migration[], parent: Migration[], branchName: string): Migration[] {
  const { pending, mismatched } = pendingMigrations(branch, parent);
  if (mismatched.length > 0) {
    const names = mismatched.map((m) => m.name).join(", ");
    throw new BoughError(
      "MERGE_CONFLICT",
      `migration ${names} differs between "${branchName}" and its parent (same name, other SQL)`,
      "give the branch's version its own file name, or reset the branch and apply the parent's version",
      { mismatched },
    );
  }
  return pending;
}
