import { listBranches } from "../control/branches.ts";
import { listProjects } from "../control/projects.ts";
import type { Project } from "../core/types.ts";
import { branchUrl, isRunning, startBranch, stopBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { withClient } from "./sql.ts";
import { projectBlobs } from "./storage-blobs.ts";
import { referencedBlobs, t0Blobs } from "./storage-refs.ts";

export interface StorageGcOptions {
  /** Only this project (default: every project). */
  project?: string;
  /** Blobs written more recently than this are kept whatever references them (ms). */
  graceMs?: number;
}

export interface StorageGcResult {
  project: string;
  blobs: number;
  referenced: number;
  removed: number;
  staleFilesRemoved: number;
}

/** An hour: far longer than any upload's rename-to-commit window. */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

/**
 * Mark and sweep of each project's blob store. Marked: in-flight uploads' leases (read
 * first), then every branch's storage.objects (stopped branches are started for the read
 * and stopped again) and every T0's recorded references. Swept: unmarked blobs older
 * than the grace period, each through the store's sweep, which keeps it if an upload
 * leased or rewrote it meanwhile. Under the operation lock, so no branch is created,
 * reset or deleted mid-mark.
 */
export function storageGc(ctx: Ctx, o: StorageGcOptions = {}): Promise<StorageGcResult[]> {
  const graceMs = o.graceMs ?? DEFAULT_GC_GRACE_MS;
  return exclusive(ctx, async () => {
    const out: StorageGcResult[] = [];
    for (const project of listProjects(ctx)) {
      if (o.project && project.name !== o.project) continue;
      out.push(await gcProject(ctx, project, graceMs));
    }
    return out;
  });
}

async function gcProject(ctx: Ctx, project: Project, graceMs: number): Promise<StorageGcResult> {
  const store = projectBlobs(ctx, project);
  const marked = await store.leased({ staleMs: Math.max(graceMs, DEFAULT_GC_GRACE_MS) });
  for (const branch of listBranches(ctx.db, project.id)) {
    for (const h of await t0Blobs(ctx, project, branch)) marked.add(h);
    const wasRunning = isRunning(ctx, project, branch);
    const live = wasRunning ? branch : await startBranch(ctx, project, branch);
    try {
      for (const h of await withClient(branchUrl(project, live), referencedBlobs)) marked.add(h);
    } finally {
      if (!wasRunning) await stopBranch(ctx, project, live);
    }
  }
  const now = Date.now();
  let blobs = 0;
  let removed = 0;
  for await (const b of store.list()) {
    blobs++;
    if (marked.has(b.sha256) || now - b.mtimeMs < graceMs) continue;
    if (await store.sweep(b.sha256, { graceMs })) removed++;
  }
  const staleFilesRemoved = await store.cleanStale({
    olderThanMs: Math.max(graceMs, DEFAULT_GC_GRACE_MS),
  });
  return { project: project.name, blobs, referenced: marked.size, removed, staleFilesRemoved };
}
