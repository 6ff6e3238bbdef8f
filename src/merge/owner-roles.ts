import type pg from "pg";
import type { Change } from "./diff/changes.ts";
import type { FingerprintProblem } from "./fingerprint/index.ts";
import { classWord, objectRef } from "./render/sql/refs.ts";

/**
 * Roles are cluster-wide and never merged: an owner the branch gives an object must
 * already exist on the target, or the merge is refused up front (like an unmodelled
 * change), never half-way through the apply.
 */
export async function missingOwnerRoles(
  client: pg.ClientBase,
  changes: Change[],
): Promise<FingerprintProblem[]> {
  const wanted = new Map<string, Change[]>();
  for (const c of changes) {
    if (c.type !== "create" && c.type !== "alter") continue;
    const owner = c.after.owner;
    if (owner === undefined || (c.type === "alter" && c.before.owner === owner)) continue;
    wanted.set(owner, [...(wanted.get(owner) ?? []), c]);
  }
  if (wanted.size === 0) return [];
  const { rows } = await client.query<{ rolname: string }>(
    "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])",
    [[...wanted.keys()]],
  );
  const present = new Set(rows.map((r) => r.rolname));
  return [...wanted.entries()]
    .filter(([role]) => !present.has(role))
    .flatMap(([role, cs]) =>
      cs.map((c) => {
        const after = (c as Extract<Change, { type: "create" | "alter" }>).after;
        const what = `${classWord(after).toLowerCase()} ${objectRef(after)}`;
        return {
          key: c.id,
          fields: ["owner"],
          details: [`owner: "${role}" on the branch, no such role on the target`],
          severity: "refuse" as const,
          message: `the branch made role ${role} the owner of ${what}, and the target has no role ${role}: roles are not merged, CREATE ROLE ${role} on the target first`,
        };
      }),
    );
}
