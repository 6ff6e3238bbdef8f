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

/** `bough migrate apply FILE`: runs a SQL file on a branch and records it for merge replay. */
function migrateApplyNow(
  ctx: Ctx,
  o: { project: string; branch: string; file: string },
): Promise<{ name: string; checksum: string; applied: boolean; branch: string }> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.branch);
    const sql = await readFile(o.file, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new BoughError(
        "INVALID_INPUT",
        `cannot read ${o.file}: ${err.code ?? err.message}`,
        "pass the path of a .sql file",
      );
    });
    const m: Migration = { name: basename(o.file), checksum: checksumOf(sql), sql };
    // Refused before the branch is even started (applyMigration checks again as it runs).
    await executableSql(m);
    const live = await startBranch(ctx, project, branch);
    const r = await withClient(branchUrl(project, live), (c) => applyMigration(c, m));
    return { name: m.name, checksum: m.checksum, applied: r.applied, branch: branch.name };
  });
}

export const migrateApply = audited("migrate.apply", migrateApplyNow);

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
