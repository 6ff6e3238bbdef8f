import { join } from "node:path";
import type { BlobStore } from "../blobs/blob-store.ts";
import { fsBlobStore } from "../blobs/fs-store.ts";
import type { Project } from "../core/types.ts";
import type { Ctx } from "./context.ts";

/** The blob store every branch of a project shares: `<project dir>/blobs`. */
export function projectBlobs(ctx: Ctx, project: Project): BlobStore {
  return fsBlobStore(join(ctx.paths.projectDir(project), "blobs"));
}
