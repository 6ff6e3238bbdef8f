import type { Branch } from "../core/types.ts";
import { type MissingConversion, missingConversionLines } from "../merge/casts.ts";
import type { Change, Conflict } from "../merge/diff/changes.ts";
import { type FingerprintProblem, unmergeableMessage } from "../merge/fingerprint/index.ts";
import { type PlatformChange, platformChanges } from "../merge/platform/describe.ts";
import { parseRenameHint } from "../merge/renames/hints.ts";
import type { RenameSuggestion } from "../merge/renames/suggest.ts";
import { renderDiffSummary } from "../merge/render/index.ts";
import { startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireChildBranch } from "./lookup.ts";
import { prepareMerge } from "./merge-prepare.ts";

export interface DiffReport {
  branch: string;
  parent: string;
  /** Recorded migrations of the branch the parent lacks (replayed first on merge). */
  migrations: string[];
  /** What the branch changed since T0 (or its last merge) that the parent lacks. */
  branchChanges: Change[];
  /** What the parent changed since then (kept on merge, never reverted). */
  parentChanges: Change[];
  conflicts: Conflict[];
  /** Changes the snapshot does not model (catalog fingerprint): a merge refuses them. */
  unmergeable: FingerprintProblem[];
  /** Unmodelled changes that change no results (planner statistics, storage, comments): merged without them. */
  notCarried: FingerprintProblem[];
  /** Why the fingerprint check did not run, or null. */
  fingerprintSkipped: string | null;
  /** branchChanges of platform config tables in words (function source, template subject, ...). */
  platformChanges: PlatformChange[];
  /** The same for parentChanges. */
  parentPlatformChanges: PlatformChange[];
  /** Secret keys set on the branch and missing on the parent (never values; secrets are not merged). */
  secretsMissingOnParent: string[];
  /** Drop + create pairs that look like renames, with the `--rename` flag that keeps the rows. */
  renameSuggestions: RenameSuggestion[];
  /** Column type changes a merge would block on (no cast, no USING of the branch's own). */
  conversionsMissing: MissingConversion[];
  summary: string;
}

/** `bough branch diff`: what a merge would see, read-only, no side effects anywhere. */
export function diffBranch(
  ctx: Ctx,
  o: { project: string; name: string; renames?: string[] },
): Promise<DiffReport> {
  return exclusive(ctx, async () => {
    const { project, branch, parent } = requireChildBranch(ctx, {
      ...o,
      what: "diffed (it has no parent)",
      hint: "diff a branch created with `bough branch create`",
    });
    const live: Branch[] = [];
    for (const b of [branch, parent]) live.push(await startBranch(ctx, project, b));
    const p = await prepareMerge(ctx, {
      project,
      branch: live[0],
      parent: live[1],
      renames: (o.renames ?? []).map(parseRenameHint),
    });
    return {
      branch: branch.name,
      parent: parent.name,
      migrations: p.migrations.map((m) => m.name),
      branchChanges: p.diff.changes,
      parentChanges: p.diff.parentChanges,
      conflicts: p.diff.conflicts,
      unmergeable: p.fingerprint.unmergeable,
      notCarried: p.fingerprint.notCarried,
      fingerprintSkipped: p.fingerprint.skipped,
      platformChanges: p.platform,
      parentPlatformChanges: platformChanges(p.diff.parentChanges),
      secretsMissingOnParent: p.secretsMissingOnParent ?? [],
      renameSuggestions: p.renameSuggestions,
      conversionsMissing: p.conversionsMissing,
      summary:
        renderDiffSummary(p.diff) +
        [
          ...(p.fingerprint.unmergeable.length > 0
            ? [`⚠️ ${unmergeableMessage(p.fingerprint.unmergeable)}`]
            : []),
          ...p.fingerprint.notCarried.map((c) => `⚠️ not merged: ${c.message}`),
          ...(p.fingerprint.skipped ? [`note: ${p.fingerprint.skipped}`] : []),
          ...p.renameSuggestions.map(
            (r) => `⚠️ looks like a rename: ${r.dropped} → ${r.created} (${r.reason}): ${r.flag}`,
          ),
          ...missingConversionLines(p.conversionsMissing).map((l) => `⚠️ ${l}`),
          ...((p.secretsMissingOnParent ?? []).length > 0
            ? [
                `⚠️ secret keys set on the branch and missing on the parent (secrets are never merged): ${p.secretsMissingOnParent?.join(", ")}`,
              ]
            : []),
        ]
          .map((l) => `${l}\n`)
          .join(""),
    };
  });
}
