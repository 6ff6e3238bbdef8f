import type pg from "pg";
import { mergeBaseOf } from "../control/branches.ts";
import { recordedResolutions } from "../control/resolutions.ts";
import { BoughError } from "../core/errors.ts";
import type { Branch, Project } from "../core/types.ts";
import { type MissingConversion, missingConversions } from "../merge/casts.ts";
import { snapshotHash } from "../merge/catalog/equality.ts";
import type { Snapshot } from "../merge/catalog/snapshot.ts";
import { readSnapshot } from "../merge/catalog/upgrade.ts";
import { carriedConversions, type DdlSource } from "../merge/conversions.ts";
import type { DiffResult } from "../merge/diff/changes.ts";
import { diff3 } from "../merge/diff/diff3.ts";
import {
  conflictIds,
  type Resolution,
  type ResolvedConflict,
  resolveConflicts,
  type Side,
} from "../merge/diff/resolve.ts";
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
import { renameBase } from "../merge/renames/base.ts";
import {
  checkRenameHints,
  type RenameHint,
  renameHintText,
  renameSql,
} from "../merge/renames/hints.ts";
import { type RenameSuggestion, suggestRenames } from "../merge/renames/suggest.ts";
import type { SideLabels } from "../merge/render/conflicts.ts";
import { renderPreview } from "../merge/render/index.ts";
import { missingRoles } from "../merge/roles.ts";
import { type DdlEntry, readDdlLog } from "../platform/ddl-log/read.ts";
import { branchUrl } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { withScratchClone } from "./scratch-clone.ts";
import { sideConnections, withClient } from "./sql.ts";

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
  /** The diff with the conflicts settled by resolutions (flags given now, or recorded on the branch). */
  diff: DiffResult;
  /** The diff as it is before any resolution: what `bough branch resolve` records against. */
  rawDiff: DiffResult;
  /** Conflicts a resolution settled, and recorded ones no longer matching their conflict. */
  resolved: ResolvedConflict[];
  staleResolutions: Resolution[];
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
  /** The `--rename` hints the plan applies first. */
  renames: RenameHint[];
  /** Drop + create pairs that look like renames, with the flag that keeps their rows. */
  renameSuggestions: RenameSuggestion[];
  /** Column type changes with no cast and no USING of the branch's: they block the merge. */
  conversionsMissing: MissingConversion[];
  /** The source branch's own DDL log, oldest first. */
  ddlLog: DdlEntry[];
}

/**
 * Three-way merge inputs: T0 (the stored merge base), the parent now and the branch now.
 * The branch's migrations the parent lacks are replayed on a throwaway clone of the
 * parent, so what they change is seen as already done on both sides and the diff
 * covers only what is left: nothing is applied twice.
 */
export async function prepareMerge(
  ctx: Ctx,
  o: {
    project: Project;
    /** What is merged (the source): a child, or for a rebase the parent. */
    branch: Branch;
    /** What it is merged into (the target). */
    parent: Branch;
    take?: TakeOptions;
    /** The three-way base; default: the branch's own merge base with its parent. */
    base?: MergeBase;
    /** Whether decisions recorded on the branch apply (only to merges into its parent). */
    recorded?: boolean;
    /** How conflicts name the two sides (a rebase swaps them). */
    labels?: SideLabels;
    /** Read the source side here instead of the branch (an undo: the target's recovered pre-merge state). */
    sourceUrl?: string;
    /** How the preview names the source (default: the branch's name). */
    sourceName?: string;
    /** `--rename` hints: run on the target before the diff, so a drop + create keeps its rows. */
    renames?: RenameHint[];
  },
): Promise<PreparedMerge> {
  const { json: baseJson, fingerprintJson } = o.base ?? mergeBaseWithParent(ctx, o.branch.id);
  if (!baseJson) {
    throw new BoughError(
      "MERGE_FAILED",
      `branch "${o.branch.name}" has no recorded merge base`,
      "it was created by an older bough; reset it or create a new branch",
    );
  }
  const storedBase = readSnapshot(baseJson);
  const url = o.sourceUrl ?? branchUrl(o.project, o.branch);
  const branchMigrations = await withClient(url, (c) => listMigrations(c));
  const renames = o.renames ?? [];
  const branchRead = withClient(url, async (c) => ({
    snapshot: await introspect(c, sideConnections(url)),
    fingerprint: await readFingerprint(c, sideConnections(url)),
    secrets: await readSecretKeys(c, o.branch.id),
    ddl: await readDdlLog(c),
  }));
  // Only rename hints wait for it (they are checked against the branch's names).
  const branchSnapshotRead = branchRead.then((b) => b.snapshot);
  branchSnapshotRead.catch(() => {});
  // The two sides are separate clusters: read side by side.
  const [branchSide, parentSide] = await both(
    branchRead,
    parentWithMigrations(ctx, {
      project: o.project,
      parent: o.parent,
      branchMigrations,
      branchName: o.sourceName ?? o.branch.name,
      renames,
      branchSnapshot: branchSnapshotRead,
    }),
  );
  const {
    snapshot: branchSnapshot,
    fingerprint: branchFingerprint,
    secrets: branchSecrets,
    ddl: branchDdl,
  } = branchSide;
  // The base renamed too, so what either side changed on the renamed object stays a change.
  const base = renameBase({
    base: storedBase,
    before: parentSide.beforeRenames,
    after: parentSide.snapshot,
    hints: renames,
  });
  const rawDiff = diff3(base, parentSide.snapshot, branchSnapshot);
  const resolution = resolveConflicts(
    rawDiff,
    [
      ...(o.recorded === false ? [] : recordedResolutions(ctx.db, o.branch.id)),
      ...takeFlags(rawDiff, o.take),
    ],
    { parent: parentSide.snapshot, branch: branchSnapshot },
  );
  const diff = resolution.diff;
  const fingerprints = {
    base: fingerprintJson ? (JSON.parse(fingerprintJson) as Fingerprint) : null,
    branch: branchFingerprint,
    parent: parentSide.fingerprint,
  };
  // Fingerprints were taken at the stored base: compare with it as it was.
  const fingerprint = checkFingerprints({ base: storedBase, branch: branchSnapshot, fingerprints });
  const conversions = await carriedConversions(
    diff.changes,
    ddlSources(branchMigrations, branchDdl),
  );
  const planned = plan(diff, {
    base,
    parent: parentSide.snapshot,
    branch: branchSnapshot,
    migrations: parentSide.migrations,
    renames,
    conversions,
  });
  const { conversionsMissing, rolesMissing } = await withClient(
    branchUrl(o.project, o.parent),
    async (c) => ({
      conversionsMissing: await missingConversions(c, { changes: diff.changes, conversions }),
      rolesMissing: await missingRoles(c, diff.changes),
    }),
  );
  // A role the target lacks blocks like an unmodelled change (merge/roles.ts).
  fingerprint.unmergeable.push(...rolesMissing);
  const renameSuggestions = suggestRenames(diff, {
    parent: parentSide.snapshot,
    branch: branchSnapshot,
  });
  const missing =
    branchSecrets === null && parentSide.secrets === null
      ? null
      : secretsMissingOnParent(branchSecrets, parentSide.secrets);
  const preview = renderPreview({
    plan: planned,
    diff,
    branch: o.sourceName ?? o.branch.name,
    parent: o.parent.name,
    fingerprint,
    secretsMissingOnParent: missing,
    resolved: resolution.resolved,
    staleResolutions: resolution.stale,
    labels: o.labels,
    conversionsMissing,
    renameSuggestions,
  });
  return {
    base,
    branchSnapshot,
    parentSnapshot: parentSide.snapshot,
    parentHash: parentSide.hash,
    migrations: parentSide.migrations,
    runnable: planned.statements.filter((st) => st.layer !== "migration"),
    diff,
    rawDiff,
    resolved: resolution.resolved,
    staleResolutions: resolution.stale,
    fingerprints,
    fingerprint,
    plan: planned,
    platform: platformChanges(diff.changes),
    secretsMissingOnParent: missing,
    preview,
    renames,
    renameSuggestions,
    conversionsMissing,
    ddlLog: branchDdl,
  };
}

/** Both results, once both have settled (no read left running behind an error); the first error wins. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
  return [x.value, y.value];
}

/** The branch's own DDL, oldest first: its migrations' text, then its DDL log (which also holds the migrations it ran). */
function ddlSources(migrations: Migration[], log: DdlEntry[]): DdlSource[] {
  return [
    ...migrations.map((m) => ({ sql: m.sql, label: `migration ${m.name}`, schema: "public" })),
    ...log.map((e) => ({
      sql: e.statement,
      label: `DDL log #${e.id}`,
      schema: e.objects.find((x) => x.type === "table")?.schema ?? "public",
    })),
  ];
}

/** A three-way base: a snapshot (JSON) and the catalog fingerprint taken with it. */
export interface MergeBase {
  json: string | null;
  fingerprintJson: string | null;
}

/** The branch's base with its parent: the last merge (or rebase), else T0. */
export function mergeBaseWithParent(ctx: Ctx, branchId: number): MergeBase {
  const stored = mergeBaseOf(ctx.db, branchId);
  return stored.mergeBase
    ? { json: stored.mergeBase, fingerprintJson: stored.baseFingerprint }
    : { json: stored.t0Base, fingerprintJson: stored.t0Fingerprint };
}

/** A branch's T0 snapshot as a base (for merges between branches that are not parent and child). */
export function t0BaseOf(ctx: Ctx, branchId: number): MergeBase {
  const stored = mergeBaseOf(ctx.db, branchId);
  return { json: stored.t0Base, fingerprintJson: stored.t0Fingerprint };
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
  o: {
    project: Project;
    parent: Branch;
    branchMigrations: Migration[];
    branchName: string;
    renames: RenameHint[];
    branchSnapshot: Promise<Snapshot>;
  },
): Promise<{
  snapshot: Snapshot;
  /** The same before the rename hints (with the migrations). */
  beforeRenames: Snapshot;
  hash: string;
  migrations: Migration[];
  fingerprint: Fingerprint | null;
  /** The parent's own secret keys (read on the parent itself, never the replay clone). */
  secrets: string[] | null;
}> {
  const read = async (client: pg.ClientBase, url: string) => {
    const pending = pendingOf(o.branchMigrations, await listMigrations(client), o.branchName);
    const now = await introspect(client, sideConnections(url));
    return { pending, now, hash: snapshotHash(now) };
  };
  const parentUrl = branchUrl(o.project, o.parent);
  const first = await withClient(parentUrl, async (c) => ({
    ...(await read(c, parentUrl)),
    fingerprint: await readFingerprint(c, sideConnections(parentUrl)),
    secrets: await readSecretKeys(c, o.parent.id),
  }));
  if (first.pending.length === 0 && o.renames.length === 0) {
    return {
      snapshot: first.now,
      beforeRenames: first.now,
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
      const { pending, hash, now } = await read(client, url);
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
      const beforeRenames = pending.length > 0 ? await introspect(client) : now;
      await runRenames(client, {
        renames: o.renames,
        target: beforeRenames,
        source: await o.branchSnapshot,
        names: { target: o.parent.name, source: o.branchName },
      });
      const snapshot = o.renames.length > 0 ? await introspect(client) : beforeRenames;
      return {
        snapshot,
        beforeRenames,
        hash,
        migrations: pending,
        fingerprint: await readFingerprint(client),
        secrets: first.secrets,
      };
    }),
  );
}

/** The rename hints on the replay clone, checked first; Postgres' refusal names the hint. */
async function runRenames(
  client: pg.ClientBase,
  o: {
    renames: RenameHint[];
    target: Snapshot;
    source: Snapshot;
    names: { target: string; source: string };
  },
): Promise<void> {
  checkRenameHints(o.renames, {
    target: o.target,
    source: o.source,
    targetName: o.names.target,
    sourceName: o.names.source,
  });
  for (const h of o.renames) {
    for (const sql of renameSql(h)) {
      await client.query(sql).catch((err: Error) => {
        throw new BoughError(
          "INVALID_INPUT",
          `--rename ${renameHintText(h)} does not apply to "${o.names.target}": ${err.message}`,
          "name the table or column as the target has it now, or drop the hint",
        );
      });
    }
  }
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

/** Conflicts settled on the command line: `--take branch|parent ID...` and `--take-all SIDE`. */
export interface TakeOptions {
  branch?: string[];
  parent?: string[];
  all?: Side;
}

/** The flags as resolutions; an id that is no conflict of this merge is refused, with the ones there are. */
function takeFlags(diff: DiffResult, take: TakeOptions | undefined): Resolution[] {
  if (!take) return [];
  const ids = conflictIds(diff);
  const out: Resolution[] = [];
  if (take.all) for (const id of ids) out.push({ id, take: take.all, source: "flag" });
  for (const side of ["branch", "parent"] as const) {
    for (const id of take[side] ?? []) {
      if (!ids.includes(id)) {
        throw new BoughError(
          "INVALID_INPUT",
          `"${id}" is not a conflict of this merge`,
          ids.length > 0
            ? `the conflicts are: ${ids.join(", ")}`
            : "this merge has no conflicts: drop --take",
        );
      }
      out.push({ id, take: side, source: "flag" });
    }
  }
  return out;
}
