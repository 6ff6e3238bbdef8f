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
import { executableSql } from "../merge/migration-sql.ts";
import {
  listMigrations,
  type Migration,
  pendingMigrations,
  runAndRecord,
} from "../merge/migrations.ts";
import { type Plan, plan, type Statement } from "../merge/plan/index.ts";
import { type PlatformChange, platformChanges } from "../merge/platform/describe.ts";
import { readSecretKeys, secretsMissingOnParent } from "../merge/platform/secrets.ts";
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
  /** Catalog fingerprints at the base (null for a branch from an older bough), of the branch and of the parent (with migrations) now. */
  fingerprints: {
    base: Fingerprint | null;
    branch: Fingerprint | null;
    parent: Fingerprint | null;
  };
  /** Changes the snapshot does not model: they block the merge like conflicts. */
  fingerprint: FingerprintCheck;
  plan: Plan;
  /** The branch's platform config changes (functions, templates, jobs, ...) in words. */
  platform: PlatformChange[];
  /** Secret keys on the branch the parent lacks (names only); null when neither has a secrets table. */
  secretsMissingOnParent: string[] | null;
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
  const { branchSnapshot, branchMigrations, branchFingerprint, branchSecrets } = await withClient(
    branchUrl(o.project, o.branch),
    async (c) => ({
      branchSnapshot: await introspect(c),
      branchMigrations: await listMigrations(c),
      branchFingerprint: await readFingerprint(c),
      branchSecrets: await readSecretKeys(c, o.branch.id),
    }),
  );
  const parentSide = await parentWithMigrations(ctx, {
    project: o.project,
    parent: o.parent,
    branchMigrations,
    branchName: o.branch.name,
  });
  const diff = diff3(base, parentSide.snapshot, branchSnapshot);
  const fingerprints = {
    base: fingerprintJson ? (JSON.parse(fingerprintJson) as Fingerprint) : null,
    branch: branchFingerprint,
    parent: parentSide.fingerprint,
  };
  const fingerprint = checkFingerprints({ base, branch: branchSnapshot, fingerprints });
  const planned = plan(diff, {
    base,
    parent: parentSide.snapshot,
    branch: branchSnapshot,
    migrations: parentSide.migrations,
  });
  const missing =
    branchSecrets === null && parentSide.secrets === null
      ? null
      : secretsMissingOnParent(branchSecrets, parentSide.secrets);
  const preview = renderPreview({
    plan: planned,
    diff,
    branch: o.branch.name,
    parent: o.parent.name,
    fingerprint,
    secretsMissingOnParent: missing,
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
    platform: platformChanges(diff.changes),
    secretsMissingOnParent: missing,
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
): Promise<{
  snapshot: Snapshot;
  hash: string;
  migrations: Migration[];
  fingerprint: Fingerprint | null;
  /** The parent's own secret keys (read on the parent itself, never the replay clone). */
  secrets: string[] | null;
}> {
  const read = async (client: pg.ClientBase) => {
    const pending = pendingOf(o.branchMigrations, await listMigrations(client), o.branchName);
    const now = await introspect(client);
    return { pending, now, hash: snapshotHash(now) };
  };
  const first = await withClient(branchUrl(o.project, o.parent), async (c) => ({
    ...(await read(c)),
    fingerprint: await readFingerprint(c),
    secrets: await readSecretKeys(c, o.parent.id),
  }));
  if (first.pending.length === 0) {
    return {
      snapshot: first.now,
      hash: first.hash,
      migrations: [],
      fingerprint: first.fingerprint,
      secrets: first.secrets,
    };
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
      const snapshot = await introspect(client);
      return {
        snapshot,
        hash,
        migrations: pending,
        fingerprint: await readFingerprint(client),
        secrets: first.secrets,
      };
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
