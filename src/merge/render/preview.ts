import { type MissingConversion, missingConversionLines } from "../casts.ts";
import type { DiffResult } from "../diff/changes.ts";
import type { Resolution, ResolvedConflict } from "../diff/resolve.ts";
import type { FingerprintCheck } from "../fingerprint/index.ts";
import type { Layer, Plan, Statement } from "../plan/types.ts";
import { platformChanges } from "../platform/describe.ts";
import { type RenameSuggestion, suggestionLines } from "../renames/suggest.ts";
import { renderConflict, type SideLabels } from "./conflicts.ts";
import { rowChangeLines } from "./rows.ts";

const SECTIONS: { layer: Layer; title: string }[] = [
  { layer: "migration", title: "MIGRATION" },
  { layer: "ddl", title: "DDL" },
  { layer: "data", title: "DATA" },
];

/**
 * The reviewable preview of a merge (`bough branch merge NAME --dry-run`): exactly the
 * SQL that would run, by section, each statement under a comment naming the object it
 * changes and its hazards; when blocked, it starts with the conflicts and what to do.
 *
 * @example console.log(renderPreview({ plan: p, diff: d, branch: "feature", parent: "main" }))
 */
export function renderPreview(o: {
  plan: Plan;
  diff: DiffResult;
  branch: string;
  parent: string;
  /** The catalog fingerprint check: changes bough cannot merge block like conflicts. */
  fingerprint?: FingerprintCheck;
  /** Secret keys the branch has and the parent lacks; null when neither has a secrets table. */
  secretsMissingOnParent?: string[] | null;
  /** Conflicts settled by taking a side, and recorded decisions that no longer match their conflict. */
  resolved?: ResolvedConflict[];
  staleResolutions?: Resolution[];
  /** Names of the diff's sides in conflicts (a rebase's "parent" is the branch). */
  labels?: SideLabels;
  /** Type changes with no cast and no USING: they block. */
  conversionsMissing?: MissingConversion[];
  /** Drop + create pairs that look like renames. */
  renameSuggestions?: RenameSuggestion[];
}): string {
  const { plan, diff } = o;
  const lines: string[] = [];
  const conflicts = diff.conflicts;
  const unmergeable = o.fingerprint?.unmergeable ?? [];
  if (unmergeable.length > 0) {
    lines.push(
      `-- ⚠️ MERGE BLOCKED: the branch changed ${unmergeable.length} object(s) bough cannot merge:`,
      ...unmergeable.map((p) => `--   ${p.message} [${p.key}]`),
      "-- make these changes with a recorded migration (`bough migrate apply`, replayed on merge), or undo them on the branch",
      "--",
    );
  }
  const notCarried = o.fingerprint?.notCarried ?? [];
  if (notCarried.length > 0) {
    lines.push(
      `-- ⚠️ NOT MERGED: the branch changed ${notCarried.length} object(s) in ways bough does not merge yet; they change no results, and the merge goes on without them:`,
      ...notCarried.map((p) => `--   ${p.message} [${p.key}]`),
      "--",
    );
  }
  const conversions = o.conversionsMissing ?? [];
  if (conversions.length > 0) {
    lines.push(
      `-- ⚠️ MERGE BLOCKED: ${conversions.length} column type change(s) need a USING expression:`,
      ...missingConversionLines(conversions).map((l) => `--   ${l}`),
      "-- a recorded migration (`bough migrate apply`) is replayed verbatim, its USING with it",
      "--",
    );
  }
  lines.push(...suggestionLines(o.renameSuggestions ?? []));
  if (conflicts.length > 0) {
    lines.push(`-- ⚠️ MERGE BLOCKED: ${conflicts.length} conflict(s)`, "--");
    conflicts.forEach((c, i) => {
      lines.push(...renderConflict(c, i + 1, conflicts.length, o.labels), "--");
    });
  }
  lines.push(...resolutionLines(o.resolved ?? [], o.staleResolutions ?? []));
  const count = (layer: Layer) => plan.statements.filter((s) => s.layer === layer).length;
  lines.push(
    `-- bough merge preview: branch "${o.branch}" -> parent "${o.parent}"`,
    `-- ${plan.statements.length} statement(s): ${count("migration")} migration, ${count("ddl")} DDL, ${count("data")} data; ${conflicts.length} conflict(s)`,
    `-- planned against parent schema ${plan.parentHash.slice(0, 16)}`,
  );
  if (o.fingerprint?.skipped) lines.push(`-- note: ${o.fingerprint.skipped}`);
  if (conflicts.length > 0 || unmergeable.length > 0 || conversions.length > 0)
    lines.push(
      "-- nothing runs while blocked: below is what would run once the conflicts are resolved",
    );
  for (const { layer, title } of SECTIONS) {
    lines.push("", `-- [${title}]`);
    const statements = plan.statements.filter((s) => s.layer === layer);
    if (statements.length === 0) lines.push("-- (nothing)");
    if (layer === "data") {
      // Platform config in words, by layer, in front of the upserts that carry it.
      const platform = platformChanges(diff.changes);
      if (platform.length > 0)
        lines.push("-- platform config, by layer:", ...platform.map((c) => `--   ${c.text}`), "");
      const rows = rowChangeLines(diff.changes);
      if (rows.length > 0) lines.push(...rows, "");
    }
    statements.forEach((s, i) => {
      if (i > 0) lines.push("");
      lines.push(...renderStatement(s));
    });
  }
  if (o.secretsMissingOnParent) lines.push("", ...secretLines(o.secretsMissingOnParent, o.parent));
  return `${lines.join("\n")}\n`;
}

/** Each settled conflict and what it runs: the statements themselves are in their sections, hazards and all. */
function resolutionLines(resolved: ResolvedConflict[], stale: Resolution[]): string[] {
  if (resolved.length === 0 && stale.length === 0) return [];
  const out = [`-- [RESOLVED] ${resolved.length} conflict(s) settled by taking a side`];
  for (const r of resolved) {
    const how = r.source === "flag" ? "--take" : "recorded with `bough branch resolve`";
    const runs =
      r.take === "parent"
        ? "the parent keeps its version; the branch's change is not applied"
        : `applies the branch's version: ${r.changes.join(", ") || "nothing left to change"}`;
    out.push(`--   ${r.type} ${r.id}: took ${r.take} (${how}): ${runs}`);
  }
  for (const r of stale)
    out.push(
      `--   ⚠️ recorded resolution for ${r.id} (take ${r.take}) no longer matches its conflict: not used; record it again`,
    );
  out.push("--");
  return out;
}

/** Secrets are never merged: say which keys the parent would lack, by name only. */
function secretLines(missing: string[], parent: string): string[] {
  const out = ["-- [SECRETS] never merged; values are never shown"];
  if (missing.length === 0)
    out.push(`-- every secret key of the branch is also set on "${parent}"`);
  else
    out.push(
      `-- ⚠️ ${missing.length} secret key(s) set on the branch are missing on "${parent}": ${missing.join(", ")}`,
      `-- set them there before merged code needs them: bough secrets set KEY --branch ${parent}`,
    );
  return out;
}

/** One statement with its comment header: change and object, hazards, notes. */
export function renderStatement(s: Statement): string[] {
  const out = [
    `-- ${s.changeKind} ${s.objectId}`,
    `-- hazards: ${s.hazards.length > 0 ? s.hazards.join(", ") : "none"}`,
  ];
  for (const note of s.notes) out.push(`-- note: ${note}`);
  out.push(s.sql);
  return out;
}
