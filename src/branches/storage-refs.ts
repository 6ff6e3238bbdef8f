import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import type { Branch, Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";
import { withClient } from "./sql.ts";

/**
 * T0 is a stopped data directory, too costly to start for every gc. Its blob references
 * never change (reset copies T0, nothing writes it), and at the end of create the new
 * branch's data *is* T0 and serves no request yet, so create records them once, here.
 */
const t0File = (ctx: Ctx, project: Project, branch: Branch) =>
  join(ctx.paths.branchDir(project, branch), "t0-blobs.json");

/** The blobs a database's storage.objects reference (none before storage existed). */
export async function referencedBlobs(client: pg.ClientBase): Promise<string[]> {
  const has = await client.query<{ ok: boolean }>(
    "SELECT to_regclass('storage.objects') IS NOT NULL AS ok",
  );
  if (!has.rows[0].ok) return [];
  const r = await client.query<{ sha256: string }>("SELECT DISTINCT sha256 FROM storage.objects");
  return r.rows.map((x) => x.sha256);
}

/** Records the T0 references of a branch being created (its data equals T0 then). */
export async function recordT0Blobs(
  ctx: Ctx,
  project: Project,
  branch: Branch,
  url: string,
): Promise<void> {
  const hashes = await withClient(url, referencedBlobs);
  const file = t0File(ctx, project, branch);
  await writeFile(`${file}.tmp`, JSON.stringify(hashes));
  await rename(`${file}.tmp`, file);
}

/**
 * The T0 references of a branch. No file means its T0 predates storage (every branch
 * created since records one before it is ready), so that T0 references no blob.
 */
export async function t0Blobs(ctx: Ctx, project: Project, branch: Branch): Promise<string[]> {
  try {
    return JSON.parse(await readFile(t0File(ctx, project, branch), "utf8")) as string[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
