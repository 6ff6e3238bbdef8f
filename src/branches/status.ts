import { ownerOf, userName } from "../clusters/os-user.ts";
import { listBranches } from "../control/branches.ts";
import { listProjects } from "../control/projects.ts";
import { runningProxy, runningServerUrl } from "../control/server.ts";
import { hasCrashed, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { readOnly } from "./exclusive.ts";
import { type StoreReport, storeReport } from "./store.ts";

export interface StatusReport {
  home: string;
  cloneDriver: "reflink" | "copy";
  cloneDriverReason: string;
  /** The XFS image the branches live in (src/branches/store.ts), or null when the home has none. */
  store: StoreReport | null;
  postgresVersion: string;
  postgresBinDir: string;
  /** As root: the home's user `bough` (its group is every cluster user's group). */
  runAsUser: string | null;
  projects: number;
  /** Base URL of the running `bough up` (management API under /v1), or null when none runs. */
  serverUrl: string | null;
  /** Port of the running `bough up`'s Postgres proxy (every branch on one port), or null. */
  proxyPort: number | null;
  clusters: {
    project: string;
    branch: string;
    port: number;
    running: boolean;
    crashed: boolean;
    /**
     * As root, the OS user the cluster runs as (its data directory's owner): its own, or
     * `bough` for a branch made before per-branch users (not isolated until made again).
     */
    osUser: string | null;
  }[];
}

export function status(ctx: Ctx): Promise<StatusReport> {
  return readOnly(ctx, async () => {
    const projects = listProjects(ctx);
    const clusters: StatusReport["clusters"] = [];
    for (const project of projects) {
      for (const branch of listBranches(ctx.db, project.id)) {
        const running = isRunning(ctx, project, branch);
        const owner = ctx.cluster.runAs ? ownerOf(ctx.paths.branchData(project, branch)) : null;
        clusters.push({
          project: project.name,
          branch: branch.name,
          port: branch.port,
          running,
          crashed: hasCrashed(ctx, project, branch, running),
          osUser: owner ? ((await userName(owner.uid)) ?? owner.name) : null,
        });
      }
    }
    return {
      home: ctx.paths.home,
      cloneDriver: ctx.driver.name,
      cloneDriverReason: ctx.driver.reason,
      store: await storeReport(ctx.paths),
      postgresVersion: ctx.cluster.install.version,
      postgresBinDir: ctx.cluster.install.binDir,
      runAsUser: ctx.cluster.runAs?.name ?? null,
      projects: projects.length,
      serverUrl: runningServerUrl(ctx.db),
      proxyPort: runningProxy(ctx.db)?.port ?? null,
      clusters,
    };
  });
}
