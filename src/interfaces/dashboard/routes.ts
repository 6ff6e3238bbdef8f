import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Ctx } from "../../branches/context.ts";
import { createBranch } from "../../branches/create.ts";
import { deleteBranch } from "../../branches/delete.ts";
import { branchPathPrefix } from "../../branches/keys.ts";
import { listBranchInfos } from "../../branches/list.ts";
import { requireProject } from "../../branches/lookup.ts";
import { mergeBranch } from "../../branches/merge.ts";
import { DEFAULT_PROJECT, listAllProjects } from "../../branches/projects.ts";
import { protectBranch, unprotectBranch } from "../../branches/protect.ts";
import { resetBranch } from "../../branches/reset.ts";
import { servicesOverview } from "../../branches/services-overview.ts";
import { readAudit } from "../../control/audit.ts";
import { BoughError, toBoughError } from "../../core/errors.ts";
import type { BranchMode } from "../../core/types.ts";
import { httpStatusOf } from "../../platform/http-status.ts";
import { SCRIPT, STYLES } from "./assets.ts";
import { AUDIT_PAGE_LIMIT, auditBody, renderAudit } from "./audit-view.ts";
import { renderBranch } from "./branch-view.ts";
import { branchWatcher } from "./events.ts";
import { html, type SafeHtml } from "./html.ts";
import { errorBody, loginPage, page, paths } from "./layout.ts";
import { planKeyOf, renderMergeReview } from "./merge-view.ts";
import {
  type Authorize,
  clearSessionCookie,
  dashboardSessions,
  setSessionCookie,
} from "./session.ts";
import { renderTree, type TreeBranch } from "./tree.ts";

export interface DashboardOptions {
  ctx: Ctx;
  /** Admin key → its name, or null: nothing but the login form is served without one. */
  authorize: Authorize;
  /** Project `/` opens (default: "default", else the first). */
  project?: string;
  /** Base URL branch APIs are reached at (default http://127.0.0.1:<the request's port>). */
  publicUrl?: string;
  /** How often the event stream looks for branch changes (ms, default 1000). */
  pollMs?: number;
}

type ProjectParams = { project: string };
type BranchParams = { project: string; branch: string };

// Pages go to people (HTML, the login form on 401); fragments, actions and events to the script (JSON errors).
const wantsPage = (req: FastifyRequest) =>
  req.method === "GET" && (req.headers.accept ?? "").includes("text/html");

/**
 * The dashboard, served at `/` and under `/dashboard/`: the branch tree, a page per
 * branch (its functions, schedules, outbox), the merge review, and create / reset /
 * delete / merge through the same src/branches calls the CLI makes. Server-rendered
 * HTML, a small script, live updates over server-sent events.
 *
 * @example app.register(dashboardRoutes({ ctx, authorize: async (k) => (k === key ? "ci" : null) }))
 */
export function dashboardRoutes(o: DashboardOptions) {
  const { ctx } = o;
  return async (app: FastifyInstance): Promise<void> => {
    const sessions = dashboardSessions(o.authorize);
    const watcher = branchWatcher(ctx, { intervalMs: o.pollMs });
    // Open event streams never end by themselves: closing the server ends them first.
    const streams = new Set<() => void>();
    app.addHook("preClose", async () => {
      for (const end of streams) end();
      watcher.close();
    });
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string" },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body.toString()))),
    );

    const actors = new WeakMap<FastifyRequest, string>();
    const actorOf = (req: FastifyRequest) => actors.get(req) as string;
    // Actions are audited as the signed-in admin key's name, like the management API's.
    const as = (req: FastifyRequest): Ctx => ({
      ...ctx,
      actor: { kind: "dashboard", name: actorOf(req) },
    });
    const open = new Set([
      "/dashboard/login",
      "/dashboard/assets/app.css",
      "/dashboard/assets/app.js",
    ]);
    app.addHook("onRequest", async (req, reply) => {
      reply.header("x-frame-options", "DENY");
      reply.header(
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
      );
      // A cross-site form or script never gets here with the cookie (SameSite=Strict); a
      // request that says it comes from another origin is refused outright.
      if (req.method === "POST" && req.headers.origin && !sameOrigin(req)) {
        return reply
          .code(403)
          .send({ code: "UNAUTHORIZED", message: "cross-origin request refused" });
      }
      if (open.has(req.routeOptions.url ?? "")) return;
      const actor = await sessions.actorOf(req);
      if (actor === null) {
        if (wantsPage(req)) {
          return reply.code(401).type("text/html").send(loginPage({}).text);
        }
        return reply.code(401).send({
          code: "UNAUTHORIZED",
          message: "sign in to the dashboard first",
          hint: "open the dashboard and enter an admin key",
        });
      }
      actors.set(req, actor);
    });

    app.setErrorHandler((err, req, reply) => {
      const e = toBoughError(err);
      const status =
        err instanceof BoughError
          ? httpStatusOf(e.code)
          : ((err as { statusCode?: number }).statusCode ?? 500);
      if (status >= 500) req.log.error(err);
      const body = {
        code: e.code,
        message: status >= 500 && !(err instanceof BoughError) ? "internal error" : e.message,
        hint: e.hint,
      };
      if (wantsPage(req)) {
        const actor = actors.get(req) ?? null;
        return reply
          .code(status)
          .type("text/html")
          .send(page({ title: "Error", actor, body: errorBody(body) }).text);
      }
      return reply.code(status).send(body);
    });

    const sendPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      p: { title: string; project: string; body: SafeHtml },
    ) => {
      const projects = (await listAllProjects(ctx)).map((x) => x.name);
      reply.type("text/html").send(page({ ...p, actor: actorOf(req), projects }).text);
    };
    const sendFragment = (reply: FastifyReply, body: SafeHtml) =>
      reply.header("cache-control", "no-store").type("text/html").send(body.text);

    const apiBase = (req: FastifyRequest) =>
      o.publicUrl ?? `http://127.0.0.1:${req.socket.localPort}`;
    const treeOf = async (req: FastifyRequest, project: string): Promise<TreeBranch[]> =>
      (await listBranchInfos(ctx, { project })).map((b) => ({
        ...b,
        apiUrl: `${apiBase(req)}${branchPathPrefix(project, b.name)}`,
      }));

    app.get("/dashboard/assets/app.css", (_req, reply) =>
      reply.type("text/css").header("cache-control", "no-cache").send(STYLES),
    );
    app.get("/dashboard/assets/app.js", (_req, reply) =>
      reply.type("text/javascript").header("cache-control", "no-cache").send(SCRIPT),
    );

    app.get("/dashboard/login", (_req, reply) => reply.type("text/html").send(loginPage({}).text));
    app.post("/dashboard/login", async (req, reply) => {
      const key = (req.body as { key?: unknown } | undefined)?.key;
      const s = typeof key === "string" && key !== "" ? await sessions.login(key) : null;
      if (!s) {
        return reply
          .code(401)
          .type("text/html")
          .send(loginPage({ error: "That admin key was not accepted." }).text);
      }
      setSessionCookie(reply, s.id);
      return reply.redirect("/", 303);
    });
    app.post("/dashboard/logout", (req, reply) => {
      sessions.logout(req);
      clearSessionCookie(reply);
      return reply.redirect(paths.login, 303);
    });

    const home = async (_req: FastifyRequest, reply: FastifyReply) => {
      const projects = (await listAllProjects(ctx)).map((p) => p.name);
      const wanted = o.project ?? DEFAULT_PROJECT;
      const project = projects.includes(wanted) ? wanted : projects[0];
      if (!project) {
        throw new BoughError("PROJECT_NOT_FOUND", "there is no project yet", "run `bough init`");
      }
      return reply.redirect(paths.project(project), 303);
    };
    app.get("/", home);
    app.get("/dashboard", home);

    app.get<{ Params: ProjectParams }>("/dashboard/p/:project", async (req, reply) => {
      const { project } = req.params;
      const tree = renderTree(project, await treeOf(req, project));
      await sendPage(req, reply, {
        title: `${project} branches`,
        project,
        body: html`<h1>Branches of ${project}</h1>
<div class="toolbar"><button type="button" class="primary" data-action="create" data-parent="main">New branch</button>
<span class="muted">Updates live as branches change.</span></div>
<section id="live" data-live="${paths.tree(project)}" aria-label="Branch tree">${tree}</section>`,
      });
    });
    app.get<{ Params: ProjectParams }>("/dashboard/p/:project/tree", async (req, reply) =>
      sendFragment(reply, renderTree(req.params.project, await treeOf(req, req.params.project))),
    );

    const auditRows = (project: string, branch: string | undefined) =>
      readAudit(ctx.db, { project, branch: branch || undefined, limit: AUDIT_PAGE_LIMIT });
    type AuditReq = { Params: ProjectParams; Querystring: { branch?: string } };
    app.get<AuditReq>("/dashboard/p/:project/audit", async (req, reply) => {
      const { project } = req.params;
      requireProject(ctx, project);
      const branch = req.query.branch || undefined;
      await sendPage(req, reply, {
        title: `${project} audit log`,
        project,
        body: auditBody(project, { branch, rows: auditRows(project, branch) }),
      });
    });
    app.get<AuditReq>("/dashboard/p/:project/audit/fragment", async (req, reply) =>
      sendFragment(
        reply,
        renderAudit(req.params.project, auditRows(req.params.project, req.query.branch)),
      ),
    );

    const branchBody = async (req: FastifyRequest, project: string, name: string) => {
      const all = await treeOf(req, project);
      const b = all.find((x) => x.name === name);
      if (!b) {
        throw new BoughError(
          "BRANCH_NOT_FOUND",
          `branch "${name}" does not exist in project "${project}"`,
          "it may have been deleted: go back to the branch tree",
        );
      }
      const children = all.filter((x) => x.parent === name).map((x) => x.name);
      return renderBranch(project, b, children, await servicesOverview(ctx, { project, name }));
    };
    app.get<{ Params: BranchParams }>("/dashboard/p/:project/b/:branch", async (req, reply) => {
      const { project, branch } = req.params;
      await sendPage(req, reply, {
        title: branch,
        project,
        body: html`<p><a href="${paths.project(project)}">← all branches</a></p><h1>Branch ${branch}</h1>
<section id="live" data-live="${paths.branchFragment(project, branch)}" aria-label="Branch details">${await branchBody(req, project, branch)}</section>`,
      });
    });
    app.get<{ Params: BranchParams }>(
      "/dashboard/p/:project/b/:branch/fragment",
      async (req, reply) =>
        sendFragment(reply, await branchBody(req, req.params.project, req.params.branch)),
    );

    // The review is the CLI's `branch merge --dry-run`: read-only on both sides.
    const review = (req: FastifyRequest<{ Params: BranchParams }>) =>
      mergeBranch(as(req), { project: req.params.project, name: req.params.branch, dryRun: true });
    app.get<{ Params: BranchParams }>(
      "/dashboard/p/:project/b/:branch/merge",
      async (req, reply) => {
        const { project, branch } = req.params;
        const r = await review(req);
        await sendPage(req, reply, {
          title: `Merge review: ${branch}`,
          project,
          body: html`<p><a href="${paths.project(project)}">← all branches</a> · <a href="${paths.branch(project, branch)}">branch ${branch}</a></p>
<h1>Merge review: ${branch} → ${r.parent}</h1>
<section id="live" data-live="${paths.mergeFragment(project, branch)}" aria-label="Merge review">${renderMergeReview(project, r)}</section>`,
        });
      },
    );
    app.get<{ Params: BranchParams }>(
      "/dashboard/p/:project/b/:branch/merge/fragment",
      async (req, reply) =>
        sendFragment(reply, renderMergeReview(req.params.project, await review(req))),
    );
    app.get<{ Params: BranchParams }>(
      "/dashboard/p/:project/b/:branch/merge/preview.sql",
      async (req, reply) => {
        const r = await review(req);
        return reply
          .type("application/sql; charset=utf-8")
          .header("content-disposition", `attachment; filename="${r.branch}-merge.sql"`)
          .send(r.preview);
      },
    );

    app.get<{ Querystring: { project?: string } }>("/dashboard/events", (req, reply) => {
      const project = req.query.project ?? o.project ?? DEFAULT_PROJECT;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write("retry: 2000\n\n");
      const unsubscribe = watcher.subscribe(project, () =>
        res.write("event: change\ndata: {}\n\n"),
      );
      // Comments keep idle connections (and proxies) from timing out.
      const ping = setInterval(() => res.write(": ping\n\n"), 25_000);
      const end = () => {
        clearInterval(ping);
        unsubscribe();
        streams.delete(end);
        res.end();
      };
      streams.add(end);
      req.raw.on("close", end);
    });

    type CreateBody = {
      name?: unknown;
      from?: unknown;
      mode?: unknown;
      expiresIn?: unknown;
      mask?: unknown;
    };
    app.post<{ Params: ProjectParams; Body: CreateBody }>(
      "/dashboard/api/p/:project/branches",
      async (req) => {
        const b = req.body ?? {};
        const optional = (v: unknown, name: string) =>
          v === undefined || v === "" ? undefined : stringField(v, name);
        const r = await createBranch(as(req), {
          project: req.params.project,
          name: stringField(b.name, "name"),
          from: optional(b.from, "from"),
          mode: optional(b.mode, "mode") as BranchMode | undefined,
          expiresIn: optional(b.expiresIn, "expiresIn"),
          // A checkbox: "true" in the form, a boolean from a script.
          mask: b.mask === true || b.mask === "true",
          switchTo: false,
        });
        return {
          message: `created ${r.branch.name} from ${r.branch.parent} in ${(r.elapsedMs / 1000).toFixed(2)} s (${r.cloneDriver} driver)`,
          branch: r.branch,
        };
      },
    );
    app.post<{ Params: BranchParams; Body: { toParent?: unknown } }>(
      "/dashboard/api/p/:project/b/:branch/reset",
      async (req) => {
        const toParent = req.body?.toParent === true;
        const b = await resetBranch(as(req), {
          project: req.params.project,
          name: req.params.branch,
          toParent,
        });
        const message = toParent
          ? `${b.name} is a fresh copy of ${b.parent} as of ${b.forkedAt}`
          : `${b.name} reset to T0 (${b.forkedAt})`;
        return { message, branch: b };
      },
    );
    for (const [action, op] of [
      ["protect", protectBranch],
      ["unprotect", unprotectBranch],
    ] as const) {
      app.post<{ Params: BranchParams }>(
        `/dashboard/api/p/:project/b/:branch/${action}`,
        async (req) => {
          const b = await op(as(req), { project: req.params.project, name: req.params.branch });
          return {
            message: `${b.name} is ${b.protected ? "protected" : "not protected"}`,
            branch: b,
          };
        },
      );
    }
    app.post<{ Params: BranchParams; Body: { recursive?: unknown } }>(
      "/dashboard/api/p/:project/b/:branch/delete",
      async (req) => {
        const deleted = await deleteBranch(as(req), {
          project: req.params.project,
          name: req.params.branch,
          recursive: req.body?.recursive === true,
        });
        return { message: `deleted ${deleted.join(", ")}`, deleted };
      },
    );
    app.post<{ Params: BranchParams; Body: { plan?: unknown } }>(
      "/dashboard/api/p/:project/b/:branch/merge",
      async (req, reply) => {
        const reviewed = stringField(req.body?.plan, "plan");
        const r = await mergeBranch(as(req), {
          project: req.params.project,
          name: req.params.branch,
          // What runs is what the reviewer saw: a plan that moved since is refused.
          confirm: async (preview) => {
            if (planKeyOf(preview) !== reviewed) {
              throw new BoughError(
                "NOT_CONFIRMED",
                "the merge plan changed since you reviewed it",
                "review the new plan on this page, then merge again",
              );
            }
          },
        });
        if (r.blocked) {
          return reply.code(409).send({
            code: "MERGE_CONFLICT",
            message: `merge of ${r.branch} into ${r.parent} is ${r.blockedReason?.replace(/^merge /u, "")}`,
            hint: "resolve them on the branch (or reset it), then merge again; the parent was not changed",
          });
        }
        return {
          message: `merged ${r.branch} into ${r.parent}: ${r.migrations.length} migration(s), ${r.statements.length} statement(s), rehearsed then applied in one transaction`,
        };
      },
    );
  };
}

function stringField(v: unknown, name: string): string {
  if (typeof v !== "string" || v === "") {
    throw new BoughError("INVALID_INPUT", `${name} is required`, `send ${name} as a string`);
  }
  return v;
}

function sameOrigin(req: FastifyRequest): boolean {
  try {
    return new URL(req.headers.origin as string).host === req.headers.host;
  } catch {
    return false;
  }
}
