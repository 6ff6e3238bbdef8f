import { rm } from "node:fs/promises";
import type pg from "pg";
import { connectionString, killCluster, startCluster } from "../clusters/cluster.ts";
import { cloneRunning } from "../clusters/online-clone.ts";
import { pickFreePort } from "../clusters/ports.ts";
import { removeTree } from "../clusters/remove-tree.ts";
import { reservedPorts } from "../control/branches.ts";
import { BoughError } from "../core/errors.ts";
import { faultPoint } from "../core/fault.ts";
import type { Branch, Project } from "../core/types.ts";
import { applyInTransaction } from "../merge/apply.ts";
import { differingIds } from "../merge/catalog/equality.ts";
import { expectedAfterMerge } from "../merge/expected.ts";
import {
  type Fingerprint,
  lostChanges,
  problemLines,
  readFingerprint,
} from "../merge/fingerprint/index.ts";
import { introspect } from "../merge/introspect/index.ts";
import { branchUrl } from "./branch-cluster.ts";
import { branchPassword } from "./branch-password.ts";
import { dropScratchOwner, scratchOwner, scratchSandbox } from "./cluster-users.ts";
import type { Ctx } from "./context.ts";
import type { PreparedMerge } from "./merge-prepare.ts";
import { sideConnections, withClient } from "./sql.ts";

/** The rehearsal's server log, kept beside its data directory; recovery removes both. */
const rehearsalLog = (dir: string) => `${dir}.log`;

/**
 * Proves a merge plan on a throwaway copy-on-write clone of the parent as it is now:
 * the statements must all run, and the result must equal the parent with the branch's
 * changes on top. The clone runs as a throwaway OS user of the merge operation in a
 * sandbox (the statements are the branch's, not reviewed yet: cluster-users.ts), and is always removed with it; the parent is only read. Returns the
 * rehearsed result's catalog fingerprint (what the parent has once the merge is in).
 */
export async function rehearse(
  ctx: Ctx,
  o: {
    project: Project;
    parent: Branch;
    prepared: PreparedMerge;
    dir: string;
    opId: number;
    /** What runs after the statements on the clone too (an undo's row restore). */
    beforeCommit?: (client: pg.ClientBase) => Promise<void>;
  },
): Promise<{ fingerprint: Fingerprint | null }> {
  const { project, parent, prepared, dir } = o;
  const logFile = rehearsalLog(dir);
  try {
    const owner = await scratchOwner(ctx, o.opId);
    await cloneRunning({
      sourceDataDir: ctx.paths.branchData(project, parent),
      sourceUrl: branchUrl(project, parent),
      targetDataDir: dir,
      driver: ctx.driver,
      owner,
    });
    const port = await pickFreePort(reservedPorts(ctx.db));
    const sandbox = await scratchSandbox(owner, dir);
    await startCluster(ctx.cluster, { dataDir: dir, port, logFile, sandbox: sandbox ?? undefined });
    faultPoint("merge:during-rehearsal");
    const url = connectionString({
      port,
      password: branchPassword(project, parent),
      socketDir: sandbox?.socketDir,
    });
    const rehearsed = await withClient(url, async (c) => {
      await applyInTransaction(c, {
        migrations: prepared.migrations,
        statements: prepared.runnable,
        expectedHash: null,
        lockTimeoutMs: 30_000,
        beforeCommit: o.beforeCommit,
      }).catch((err: BoughError) => {
        throw new BoughError(
          err.code,
          `rehearsal on a clone of "${parent.name}" failed, the parent was not touched:\n${err.message}`,
          err.hint,
          err.details,
        );
      });
      // Committed: the proof reads the clone as any session would, over several connections.
      const [snapshot, fingerprint] = await Promise.all([
        introspect(c, sideConnections(url)),
        withClient(url, (f) => readFingerprint(f, sideConnections(url))),
      ]);
      return { snapshot, fingerprint };
    });
    const expected = expectedAfterMerge(
      prepared.parentSnapshot,
      prepared.diff.changes,
      prepared.branchSnapshot,
    );
    const differing = differingIds(rehearsed.snapshot, expected);
    if (differing.length > 0) {
      throw new BoughError(
        "MERGE_FAILED",
        `the rehearsed merge did not converge: ${differing.length} object(s) differ from the expected result (${differing.slice(0, 8).join(", ")}${differing.length > 8 ? ", ..." : ""})`,
        "the parent was not touched; this is a bough planning bug for these objects — merge them with a recorded migration (`bough migrate apply`) instead",
        { differing },
      );
    }
    proveWithFingerprint(prepared, rehearsed.fingerprint, parent.name);
    return { fingerprint: rehearsed.fingerprint };
  } finally {
    await removeRehearsal(ctx, dir, o.opId);
  }
}

/** Stops and removes a rehearsal clone, its log and its user; safe to repeat. */
export async function removeRehearsal(ctx: Ctx, dir: string, opId: number): Promise<void> {
  await killCluster(dir);
  await removeTree(dir, ctx.cluster.runAs);
  await rm(rehearsalLog(dir), { force: true });
  await dropScratchOwner(ctx, opId);
}

/**
 * The independent proof: every catalog field the branch changed since the base must be
 * on the rehearsed parent as it is on the branch, whatever the snapshot models. Without
 * a stored base fingerprint (a branch from an older bough) only the snapshot check runs.
 */
function proveWithFingerprint(
  prepared: PreparedMerge,
  rehearsed: Fingerprint | null,
  parentName: string,
): void {
  const { base, branch, parent } = prepared.fingerprints;
  if (!base || !branch || !rehearsed) return;
  const lost = lostChanges({ base, branch, rehearsed, parent });
  if (lost.length === 0) return;
  const lines = problemLines(lost);
  throw new BoughError(
    "MERGE_FAILED",
    `the rehearsed merge lost part of the branch's changes: ${lost.length} catalog object(s) differ from the branch on a clone of "${parentName}":\n  ${lines.join("\n  ")}`,
    "the parent was not touched; bough cannot carry these changes yet — make them with a recorded migration (`bough migrate apply`) instead",
    { lost },
  );
}
