import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { BoughError } from "../core/errors.ts";
import { executableSql } from "../merge/migration-sql.ts";
import { applyMigration, checksumOf, listMigrations, type Migration } from "../merge/migrations.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

export interface AppliedMigration {
  name: string;
  checksum: string;
  /** False when a migration of that name and checksum was applied before. */
  applied: boolean;
  branch: string;
}

/** `bough migrate apply FILE`: runs a SQL file on a branch and records it for merge replay. */
function migrateApplyNow(
  ctx: Ctx,
  o: { project: string; branch: string; file: string },
): Promise<AppliedMigration> {
  const read = () =>
    readFile(o.file, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new BoughError(
        "INVALID_INPUT",
        `cannot read ${o.file}: ${err.code ?? err.message}`,
        "pass the path of a .sql file",
      );
    });
  return exclusive(ctx, () => applyLocked(ctx, { ...o, name: basename(o.file), read }));
}

/** The same, for SQL given as text under a migration name (the management API's body). */
function migrateApplySqlNow(
  ctx: Ctx,
  o: { project: string; branch: string; name: string; sql: string },
): Promise<AppliedMigration> {
  return exclusive(ctx, () => applyLocked(ctx, { ...o, read: async () => o.sql }));
}

async function applyLocked(
  ctx: Ctx,
  o: { project: string; branch: string; name: string; read: () => Promise<string> },
): Promise<AppliedMigration> {
  const project = requireProject(ctx, o.project);
  const branch = requireBranch(ctx, project, o.branch);
  const sql = await o.read();
  const m: Migration = { name: o.name, checksum: checksumOf(sql), sql };
  // Refused before the branch is even started (applyMigration checks again as it runs).
  await executableSql(m);
  const live = await startBranch(ctx, project, branch);
  const r = await withClient(branchUrl(project, live), (c) => applyMigration(c, m));
  return { name: m.name, checksum: m.checksum, applied: r.applied, branch: branch.name };
}

export const migrateApply = audited("migrate.apply", migrateApplyNow);
export const migrateApplySql = audited("migrate.apply", migrateApplySqlNow);

export function migrateList(
  ctx: Ctx,
  o: { project: string; branch: string },
): Promise<{ name: string; checksum: string }[]> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const live = await startBranch(ctx, project, requireBranch(ctx, project, o.branch));
    const list = await withClient(branchUrl(project, live), listMigrations);
    return list.map((m) => ({ name: m.name, checksum: m.checksum }));
  });
}
