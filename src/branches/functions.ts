import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { checkSource, denoHost } from "../platform/functions/deno.ts";
import {
  functionNotFound,
  validateFunctionName,
  validateSource,
} from "../platform/functions/source.ts";
import {
  deleteFunction,
  type FunctionSummary,
  listFunctions,
  listInvocations,
  upsertFunction,
} from "../platform/functions/store.ts";
import { ensurePlatformSchema, hasPlatformSchema } from "../platform/schema.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

interface Target {
  project: string;
  branch: string;
}

/** Runs fn on a branch's database (started if stopped, platform schema ensured). */
function onBranch<T>(ctx: Ctx, t: Target, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return exclusive(ctx, async () => {
    const project = requireProject(ctx, t.project);
    const live = await startBranch(ctx, project, requireBranch(ctx, project, t.branch));
    return withClient(branchUrl(project, live), async (c) => {
      if (!(await hasPlatformSchema(c))) await ensurePlatformSchema(c);
      return fn(c);
    });
  });
}

const SOURCE_EXT = /\.(ts|tsx|mts|js|jsx|mjs|json)$/;

/** A folder's source files by relative path (dot files and node_modules left out). */
async function readDir(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && SOURCE_EXT.test(e.name))
        files[relative(dir, p)] = await readFile(p, "utf8");
    }
  };
  await walk(dir);
  return files;
}

const unreadable = (path: string) => (err: NodeJS.ErrnoException) => {
  throw new BoughError(
    "INVALID_INPUT",
    `cannot read ${path}: ${err.code ?? err.message}`,
    "pass an existing file or folder",
  );
};

export interface DeployOptions extends Target {
  name: string;
  file?: string;
  dir?: string;
  /** One file's source as text (the MCP tool), stored as index.ts. */
  source?: string;
  /** Source files by relative path (the management API); entrypoint default index.ts. */
  files?: Record<string, string>;
  entrypoint?: string;
  verifyJwt?: boolean;
}

/**
 * `bough functions deploy NAME`: one file, or a folder with relative imports (entrypoint
 * index.ts unless told). Refused before anything is stored if Deno cannot parse the code.
 */
async function deployFunctionNow(
  ctx: Ctx,
  o: DeployOptions,
): Promise<{ name: string; branch: string; created: boolean; files: string[] }> {
  validateFunctionName(o.name);
  if ([o.file, o.dir, o.source, o.files].filter((x) => x !== undefined).length !== 1) {
    throw new BoughError(
      "INVALID_INPUT",
      "pass exactly one of --file F or --dir D",
      "e.g. --file index.ts",
    );
  }
  let files: Record<string, string>;
  let entrypoint: string;
  if (o.source !== undefined) {
    entrypoint = "index.ts";
    files = { [entrypoint]: o.source };
  } else if (o.files !== undefined) {
    entrypoint = o.entrypoint ?? "index.ts";
    files = o.files;
  } else if (o.file) {
    entrypoint = basename(o.file);
    files = { [entrypoint]: await readFile(o.file, "utf8").catch(unreadable(o.file)) };
  } else {
    const dir = o.dir as string;
    await stat(dir).catch(unreadable(dir));
    files = await readDir(dir);
    entrypoint = o.entrypoint ?? "index.ts";
  }
  validateSource(files, entrypoint);
  await checkSource(await denoHost(ctx.paths.home, ctx.cluster.runAs), files, entrypoint);
  const r = await onBranch(ctx, o, (c) =>
    upsertFunction(c, { name: o.name, entrypoint, files, verifyJwt: o.verifyJwt ?? true }),
  );
  return { name: o.name, branch: o.branch, created: r.created, files: Object.keys(files).sort() };
}

/** Audited with the file names, never the sources (the function row has them). */
export const deployFunction = audited("function.deploy", deployFunctionNow, {
  args: (o) => ({
    function: o.name,
    files: o.files ? Object.keys(o.files).sort() : undefined,
    file: o.file,
    dir: o.dir,
    entrypoint: o.entrypoint,
    verifyJwt: o.verifyJwt,
  }),
});

export function listFunctionsOp(ctx: Ctx, o: Target): Promise<FunctionSummary[]> {
  return onBranch(ctx, o, listFunctions);
}

async function deleteFunctionNow(
  ctx: Ctx,
  o: Target & { name: string },
): Promise<{ name: string; branch: string }> {
  validateFunctionName(o.name);
  const found = await onBranch(ctx, o, (c) => deleteFunction(c, o.name));
  if (!found) throw functionNotFound(o.name);
  return { name: o.name, branch: o.branch };
}

export const deleteFunctionOp = audited("function.delete", deleteFunctionNow, {
  args: (o) => ({ function: o.name }),
});

/** `bough functions logs NAME`: the last invocations, newest first. */
export function functionLogs(ctx: Ctx, o: Target & { name: string; limit?: number }) {
  validateFunctionName(o.name);
  const limit = o.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new BoughError(
      "INVALID_INPUT",
      `--limit must be 1-1000, got ${o.limit}`,
      "e.g. --limit 50",
    );
  }
  return onBranch(ctx, o, (c) => listInvocations(c, o.name, limit));
}
