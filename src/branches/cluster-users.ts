import { randomBytes } from "node:crypto";
import { ensureUser, ownerOf, type RunAs, removeUser } from "../clusters/os-user.ts";
import { makeSocketDir, removeSocketDir, type Sandbox } from "../clusters/sandbox.ts";
import { getSetting, setSettingIfAbsent } from "../control/settings.ts";
import type { DirRef } from "../core/paths.ts";
import type { Ctx } from "./context.ts";

/**
 * As root every cluster runs as a system user of its own, so a branch's superuser (COPY
 * ... TO PROGRAM, pg_read_file, archive_command) reaches its own files and nothing of its
 * parent or of any other branch:
 * - a branch's user is `bough-<tag>-b<branch id>`, made when the branch is made and removed
 *   with it; a scratch clone's (merge rehearsal, migration replay, diff --at) is
 *   `bough-<tag>-o<operation id>`, removed with the clone. Ids are never reused, so neither
 *   are names. The tag is the home's, so two homes on one machine never share a user.
 * - their primary group is the home's group `bough` (traverse the home, read the Postgres
 *   copy), which no data of any cluster is readable by.
 * A cluster runs as the owner of its data directory (clusters/cluster.ts), so a branch of
 * a home from before this keeps running as `bough` until it is created again.
 * Without root there is one user, the caller: every function here returns null.
 */

const TAG_KEY = "os-user-tag";

/** The home's tag in its users' names (6 hex digits, made once; null: no user made yet). */
function homeTag(ctx: Ctx, create: boolean): string | null {
  const known = getSetting(ctx.db, TAG_KEY);
  if (known !== null || !create) return known;
  // Two processes racing here agree on whichever row was inserted first.
  return setSettingIfAbsent(ctx.db, TAG_KEY, randomBytes(3).toString("hex"));
}

const branchUserName = (tag: string, branchId: number) => `bough-${tag}-b${branchId}`;
const scratchUserName = (tag: string, opId: number) => `bough-${tag}-o${opId}`;

async function ensureNamed(ctx: Ctx, name: (tag: string) => string): Promise<RunAs | null> {
  const home = ctx.cluster.runAs;
  if (!home) return null;
  return ensureUser(name(homeTag(ctx, true) as string), home.gid);
}

async function removeNamed(
  ctx: Ctx,
  name: (tag: string) => string,
  /** What goes before the user (files named after it). */
  first?: (user: { name: string }) => Promise<void>,
): Promise<void> {
  const tag = ctx.cluster.runAs ? homeTag(ctx, false) : null;
  if (tag === null) return;
  await first?.({ name: name(tag) });
  await removeUser(name(tag));
}

/** The user of a new branch's cluster, created if absent. */
export function branchOwner(ctx: Ctx, branchId: number): Promise<RunAs | null> {
  return ensureNamed(ctx, (tag) => branchUserName(tag, branchId));
}

/** The throwaway user of one operation's scratch clone, created if absent. */
export function scratchOwner(ctx: Ctx, opId: number): Promise<RunAs | null> {
  return ensureNamed(ctx, (tag) => scratchUserName(tag, opId));
}

/** Removes a branch's user (after its files): its processes are killed first. */
export function dropBranchOwner(ctx: Ctx, branchId: number): Promise<void> {
  return removeNamed(ctx, (tag) => branchUserName(tag, branchId));
}

/** Removes a scratch clone's user and its sandbox's socket directory. */
export function dropScratchOwner(ctx: Ctx, opId: number): Promise<void> {
  return removeNamed(ctx, (tag) => scratchUserName(tag, opId), removeSocketDir);
}

/**
 * The sandbox a scratch clone in dataDir runs in (clusters/sandbox.ts): as root, always,
 * because what it runs is not reviewed yet; null without root (one user, no namespaces).
 */
export async function scratchSandbox(
  owner: RunAs | null,
  dataDir: string,
): Promise<Sandbox | null> {
  if (!owner) return null;
  return { socketDir: await makeSocketDir(owner), keep: [dataDir] };
}

/**
 * Who an existing branch's clusters run as: the owner of its data directory (or of its
 * T0, while a reset has removed the data), so a branch made before per-branch users stays
 * `bough`; a branch with neither gets its own user.
 */
export async function clusterOwner(
  ctx: Ctx,
  project: DirRef,
  branch: DirRef,
): Promise<RunAs | null> {
  if (!ctx.cluster.runAs) return null;
  for (const dir of [ctx.paths.branchData(project, branch), ctx.paths.branchT0(project, branch)]) {
    const owner = ownerOf(dir);
    if (owner && owner.uid !== 0) return owner;
  }
  return branchOwner(ctx, branch.id);
}
