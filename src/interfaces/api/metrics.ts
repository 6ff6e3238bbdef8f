import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { isRunning } from "../../branches/branch-cluster.ts";
import type { Ctx } from "../../branches/context.ts";
import { readAudit } from "../../control/audit.ts";
import { listBranches } from "../../control/branches.ts";
import { listProjects } from "../../control/projects.ts";
import type { BranchState } from "../../core/types.ts";

/** Every state at 0, so a state a project has no branch in shows 0 instead of vanishing. */
const noBranches = (): Record<BranchState, number> => ({
  creating: 0,
  ready: 0,
  merging: 0,
  merged: 0,
  conflicted: 0,
  resetting: 0,
  deleting: 0,
  failed: 0,
});

/** Operations run from a few ms (keys) to minutes (a full clone, a long merge). */
const OPERATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const PLATFORM =
  /^\/p\/[^/]+\/b\/[^/]+\/(auth|rest|storage|functions|realtime|email)\/v1(?:[/?]|$)/;
const MANAGEMENT = /^\/v1(?:[/?]|$)/;

/**
 * The service a request went to, from its path: never the project or branch name, so
 * the number of series stays bounded however many branches there are.
 */
export function serviceOf(url: string): string {
  const m = PLATFORM.exec(url);
  if (m) return m[1];
  return MANAGEMENT.test(url) ? "management" : "dashboard";
}

/**
 * `GET /metrics` in Prometheus' text format, from a registry of this app's own (two apps
 * in one process, as in tests, do not share counters). Branches and operations are read
 * from the control plane at scrape time, so what the CLI does in other processes counts.
 * Unauthenticated, as Prometheus scrapes: the server listens on loopback only.
 */
export function registerMetrics(app: FastifyInstance, ctx: Ctx): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const branches = new Gauge({
    name: "bough_branches",
    help: "Branches by project and state",
    labelNames: ["project", "state"],
    registers: [registry],
  });
  const running = new Gauge({
    name: "bough_running_clusters",
    help: "Branch Postgres clusters running now (any process may have started them)",
    registers: [registry],
  });
  const operations = new Counter({
    name: "bough_operations_total",
    help: "Control-plane operations (audit log lines) by kind and outcome (ok or the error code)",
    labelNames: ["kind", "outcome"],
    registers: [registry],
  });
  const operationSeconds = new Histogram({
    name: "bough_operation_duration_seconds",
    help: "Duration of control-plane operations by kind",
    labelNames: ["kind"],
    buckets: OPERATION_BUCKETS,
    registers: [registry],
  });
  const statementsApplied = new Counter({
    name: "bough_merge_statements_applied_total",
    help: "Statements merges applied to their parent (migrations included), by project",
    labelNames: ["project"],
    registers: [registry],
  });
  const clonedBytes = new Counter({
    name: "bough_clone_bytes_total",
    help: "Logical bytes branch creations cloned (data, WAL and T0; with reflink they share extents), by project",
    labelNames: ["project"],
    registers: [registry],
  });
  const requests = new Counter({
    name: "bough_platform_requests_total",
    help: "HTTP requests by service (auth, rest, storage, functions, realtime, email, management, dashboard) and status",
    labelNames: ["service", "status"],
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: "bough_platform_request_duration_seconds",
    help: "HTTP request latency by service",
    labelNames: ["service"],
    registers: [registry],
  });

  // The audit log is append-only and its ids only grow: each scrape adds the lines since the last.
  let lastAuditId = 0;
  const scrape = () => {
    branches.reset();
    let up = 0;
    for (const project of listProjects(ctx)) {
      const byState = noBranches();
      for (const b of listBranches(ctx.db, project.id)) {
        byState[b.state]++;
        if (isRunning(ctx, project, b)) up++;
      }
      for (const [state, n] of Object.entries(byState)) {
        branches.set({ project: project.name, state }, n);
      }
    }
    running.set(up);
    for (const e of readAudit(ctx.db, { afterId: lastAuditId })) {
      operations.inc({ kind: e.action, outcome: e.result });
      if (e.durationMs !== null) operationSeconds.observe({ kind: e.action }, e.durationMs / 1000);
      // Figures the operations record on their audit lines (src/branches/merge.ts, create.ts).
      const project = { project: e.project ?? "" };
      const { statementsApplied: applied, clonedBytes: cloned } = e.args;
      if (e.action === "branch.merge" && typeof applied === "number" && applied > 0) {
        statementsApplied.inc(project, applied);
      }
      if (e.action === "branch.create" && typeof cloned === "number")
        clonedBytes.inc(project, cloned);
      lastAuditId = e.id;
    }
  };

  app.addHook("onResponse", async (req, reply) => {
    const service = serviceOf(req.url);
    requests.inc({ service, status: String(reply.statusCode) });
    requestSeconds.observe({ service }, reply.elapsedTime / 1000);
  });
  app.get("/metrics", async (_req, reply) => {
    scrape();
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
