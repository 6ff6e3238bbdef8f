import { assertNever, type Change, type DiffResult } from "../diff/changes.ts";
import { describePlatformChange } from "../platform/describe.ts";

const isSchema = (c: Change) => c.type === "create" || c.type === "drop" || c.type === "alter";

/** One line per change: a sign, what happens, and to what (platform config in words). */
export function describeChange(c: Change): string {
  const platform = describePlatformChange(c);
  if (platform)
    return `${{ added: "+", changed: "~", removed: "-" }[platform.action]} ${platform.text}`;
  switch (c.type) {
    case "create":
      return `+ create ${c.id}`;
    case "drop":
      return `- drop ${c.id}`;
    case "alter":
      return `~ alter ${c.id}`;
    case "row-upsert":
      return `${c.before ? "~ update" : "+ insert"} row ${c.table} ${c.key}`;
    case "row-delete":
      return `- delete row ${c.table} ${c.key}`;
    case "policy-set":
      return `~ set merge policy of ${c.table}: ${c.after.policy}`;
    case "policy-delete":
      return `- remove merge policy of ${c.table}`;
    default:
      return assertNever(c);
  }
}

function section(title: string, changes: string[]): string[] {
  return [
    `${title} (${changes.length}):`,
    ...(changes.length > 0 ? changes.map((l) => `  ${l}`) : ["  (none)"]),
  ];
}

/**
 * `bough branch diff` for people: the branch's schema changes, the parent's (kept as
 * they are), config rows and policies on both sides, and conflicts. Secret (excluded)
 * values never appear: rows in a diff never carry them.
 */
export function renderDiffSummary(diff: DiffResult): string {
  const lines = [
    ...section("Schema changes on the branch", diff.changes.filter(isSchema).map(describeChange)),
    ...section(
      "Schema changes on the parent since the branch was made (kept)",
      diff.parentChanges.filter(isSchema).map(describeChange),
    ),
    ...section(
      "Config changes on the branch",
      diff.changes.filter((c) => !isSchema(c)).map(describeChange),
    ),
    ...section(
      "Config changes on the parent (kept)",
      diff.parentChanges.filter((c) => !isSchema(c)).map(describeChange),
    ),
    ...section(
      "Conflicts",
      diff.conflicts.map(
        (c) =>
          `! ${c.type} ${c.id}${c.type === "dependency" ? ` (needs ${c.dependsOn})` : ""}: ${c.hint}`,
      ),
    ),
  ];
  if (diff.conflicts.length > 0)
    lines.push("The merge is blocked until the conflicts are resolved.");
  return `${lines.join("\n")}\n`;
}

/**
 * `bough branch diff A B` for people: a two-way diff (A as base and parent, B as branch),
 * so every change is what B has that A has not.
 */
export function renderCompareSummary(title: string, changes: Change[]): string {
  const lines = [
    title,
    ...section("Schema", changes.filter(isSchema).map(describeChange)),
    ...section("Config rows", changes.filter((c) => !isSchema(c)).map(describeChange)),
  ];
  return `${lines.join("\n")}\n`;
}
