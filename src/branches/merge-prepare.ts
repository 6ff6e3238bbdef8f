import type pg from "pg";
import { mergeBaseOf } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import type { Snapshot } from "../merge/catalog/snapshot.ts";
import { readSnapshot } from "../merge/catalog/upgrade.ts";
import type { DiffResult } from "../merge/diff/changes.ts";
import { diff3 } from "../merge/diff/diff3.ts";
import {
  checkFingerprints,
  type Fingerprint,
  type FingerprintCheck,
  readFingerprint,
} from "../merge/fingerprint/index.ts";
import { introspect } from "../merge/introspect/index.ts";
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
import { withClient } from "./sql.ts";

/** Everything a merge decides before it writes anything: read-only on both sides. */
export interface PreparedMerge {
  base: Snapshot;
  branchSnapshot: Snapshot;
  /** The parent now, with the branch's pending migrations replayed (in a rolled-back transaction). */
  parentSnapshot: Snapshot;
  /** Hash of the parent's schema as it is now, before any migration: apply checks it. */
  parentHash: string;
  migrations: Migration[];
  /** The plan's DDL and data statements; its [MIGRATION] ones run as `migrations`, recorded. */
  runnable: Statement[];
  diff: DiffResult;
  /** Catalog fingerprints at the base (null for a branch from an older bough) and of the branch now. */
  fingerprints: { base: Fingerprint | null; branch: Fingerprint | null };
  /** Changes the snapshot does not model: they block the merge like conflicts. */
  fingerprint: FingerprintCheck;
  plan: Plan;
  preview: string;
}

/**
 * Three-way merge inputs: T0 (the stored merge base), the parent now and the branch now.
 * The branch's migrations the parent lacks are replayed on the parent inside a
 * transaction that is rolled back, so what they change is seen as already done on
 * both sides and the diff covers only what is left: nothing is applied twice.
 */
export async function prepareMerge(
  ctx: Ctx,
  o: { project: Project; branch: Branch; parent: Branch },
): Promise<PreparedMerge> {
  const stored = mergeBaseOf(ctx.db, o.branch.id);
  const baseJson = stored.mergeBase ?? stored.t0Base;
  const fingerprintJson = stored.mergeBase ? stored.baseFingerprint : stored.t0Fingerprint;
  if (!baseJson) {
    throw new BoughError(
      "MERGE_FAILED",
      `branch "${o.branch.name}" has no recorded merge base`,
      "it was created by an older bough; reset it or create a new branch",
    );
  }
  const base = readSnapshot(baseJson);
  const { branchSnapshot, branchMigrations, branchFingerprint } = await withClient(
    branchUrl(o.project, o.branch),
    async (c) => ({
      branchSnapshot: await introspect(c),
      branchMigrations: await listMigrations(c),
      branchFingerprint: await readFingerprint(c),
    }),
  );
  const parentSide = await withClient(branchUrl(o.project, o.parent), (c) =>
    parentWithMigrations(c, branchMigrations, o.branch.name),
  );
  const diff = diff3(base, parentSide.snapshot, branchSnapshot);
  const fingerprints = {
    base: fingerprintJson ? (JSON.parse(fingerprintJson) as Fingerprint) : null,
    branch: branchFingerprint,
  };
  const fingerprint = checkFingerprints({
    base,
    branch: branchSnapshot,
    fingerprints: { ...fingerprints, parent: parentSide.fingerprint },
  });
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
    fingerprint,
  });
  return {
    base,
    branchSnapshot,
    parentSnapshot: parentSide.snapshot,
    parentHash: parentSide.hash,
    migrations: parentSide.migrations,
    runnable: planned.statements.filter((st) => st.layer !== "migration"),
    diff,
    fingerprints,
    fingerprint,
    plan: planned,
    preview,
  };
}

async function parentWithMigrations(
  client: pg.ClientBase,
  branchMigrations: Migration[],
  branchName: string,
): Promise<{
  snapshot: Snapshot;
  hash: string;
  migrations: Migration[];
  fingerprint: Fingerprint | null;
}> {
  const { pending, mismatched } = pendingMigrations(branchMigrations, await listMigrations(client));
  if (mismatched.length > 0) {
    const names = mismatched.map((m) => m.name).join(", ");
    throw new BoughError(
      "MERGE_CONFLICT",
      `migration ${names} differs between "${branchName}" and its parent (same name, other SQL)`,
      "give the branch's version its own file name, or reset the branch and apply the parent's version",
      { mismatched },
    );
  }
  const now = await introspect(client);
  const hash = snapshotHash(now);
  if (pending.length === 0)
    return { snapshot: now, hash, migrations: [], fingerprint: await readFingerprint(client) };
  await client.query("BEGIN");
  try {
    for (const m of pending) {
      await runAndRecord(client, m).catch((err: BoughError) => {
        throw new BoughError(
          "MERGE_CONFLICT",
          `the branch's migration ${m.name} does not apply to the parent as it is now: ${err.message}`,
          "the parent changed what this migration touches: reset the branch or rewrite the migration, then merge again",
        );
      });
    }
    const snapshot = await introspect(client);
    return { snapshot, hash, migrations: pending, fingerprint: await readFingerprint(client) };
  } finally {
    await client.query("ROLLBACK");
  }
}
