import { type Command, InvalidArgumentError } from "commander";
import { createActivity } from "../../../branches/activity.ts";
import { startMailWorker } from "../../../branches/email.ts";
import { repairInterrupted } from "../../../branches/exclusive.ts";
import { startExpiryWorker } from "../../../branches/expiry.ts";
import { apiPort, branchPathPrefix, setApiPort } from "../../../branches/keys.ts";
import { listBranchInfos } from "../../../branches/list.ts";
import { takeDueBases } from "../../../branches/pitr-bases.ts";
import { preparePlatform } from "../../../branches/platform.ts";
import { ensureDefaultProject } from "../../../branches/projects.ts";
import { startProject, stopBranches } from "../../../branches/start-stop.ts";
import { status } from "../../../branches/status.ts";
import { storageGc } from "../../../branches/storage-gc.ts";
import { startIdleSuspender } from "../../../branches/suspend.ts";
import { issueInitialAdminKey, verifyAdminKey } from "../../../control/admin-keys.ts";
import { findProject } from "../../../control/projects.ts";
import { clearServer, recordServer } from "../../../control/server.ts";
import { BoughError } from "../../../core/errors.ts";
import { buildApp } from "../../api/app.ts";
import { loggedRequest } from "../../api/request-id.ts";
import { listenProxy } from "../../proxy/server.ts";
import { noStoreOption, type Session, storeSizeOption, withSession } from "../session.ts";
import { storeLine } from "./store.ts";

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError("a port in 1-65535");
  return n;
}

export function registerSystem(program: Command): void {
  program
    .command("init")
    .description("create the data directory and the default project (idempotent)")
    .addOption(storeSizeOption())
    .addOption(noStoreOption())
    .action(
      withSession(async (s) => {
        const { project, created } = await ensureDefaultProject(s.ctx);
        const adminKey = issueInitialAdminKey(s.ctx.db);
        const { driver, storeHint } = s.ctx;
        s.out.result(
          {
            home: s.ctx.paths.home,
            project: project.name,
            created,
            cloneDriver: driver.name,
            storeHint,
            ...(adminKey && { adminKey }),
          },
          () => {
            s.out.line(
              created
                ? `initialised ${s.ctx.paths.home} with project ${project.name} (branch main)`
                : `already initialised: ${s.ctx.paths.home}`,
            );
            if (storeHint) s.out.line(storeHint);
            if (adminKey) printAdminKey(s, adminKey);
          },
        );
      }),
    );

  program
    .command("status")
    .description("data directory, clone driver, Postgres version, running clusters")
    .action(
      withSession(async (s) => {
        const r = await status(s.ctx);
        s.out.result(r, () => {
          s.out.line(`home:         ${r.home}`);
          s.out.line(`clone driver: ${r.cloneDriver} (${r.cloneDriverReason})`);
          s.out.line(`store:        ${storeLine(r.store)}`);
          s.out.line(`postgres:     ${r.postgresVersion} (${r.postgresBinDir})`);
          if (r.runAsUser) {
            s.out.line("runs as:      a system user per branch, group bough (bough runs as root)");
            const shared = r.clusters.filter((c) => c.osUser === r.runAsUser);
            if (shared.length > 0) {
              s.out.line(
                `shared user:  ${shared.map((c) => `${c.project}/${c.branch}`).join(", ")} run as ${r.runAsUser} (made before per-branch users: not isolated from each other until deleted and created again)`,
              );
            }
          }
          s.out.line(`projects:     ${r.projects}`);
          s.out.line(`server:       ${r.serverUrl ?? "not running (start it with `bough up`)"}`);
          if (r.proxyPort !== null) s.out.line(`proxy:        127.0.0.1:${r.proxyPort} (Postgres)`);
          const rows = r.clusters.map((c) => [
            c.project,
            c.branch,
            c.port,
            c.crashed ? "crashed" : c.running ? "yes" : "no",
            ...(r.runAsUser ? [c.osUser ?? "-"] : []),
          ]);
          const head = [
            "Project",
            "Branch",
            "Port",
            "Running",
            ...(r.runAsUser ? ["OS user"] : []),
          ];
          if (rows.length) s.out.table(head, rows);
        });
      }),
    );

  program
    .command("up")
    .description(
      "initialise if needed, start the project's main branch and the HTTP API, stay in the foreground",
    )
    .addOption(storeSizeOption())
    .addOption(noStoreOption())
    .option("--port <n>", "HTTP API port (default: the last one used, else 8420)", parsePort)
    .option(
      "--db-schemas <list>",
      "schemas the data API exposes, comma-separated (default public; as PostgREST's db-schemas)",
      (v: string) => v.split(",").map((x) => x.trim()),
    )
    .option(
      "--log",
      "log every request as JSON on stderr, with its request id (default: errors only)",
    )
    .option(
      "--proxy-port <n>",
      "Postgres proxy port, every branch on it (default: the last one used, else 5432, else 6543, else any free port)",
      parsePort,
    )
    .action(
      withSession(async (s, o: UpOptions) => {
        const project = s.opts.project;
        // What this command starts (main of a project it creates included) it stops on Ctrl-C.
        const started: string[] = [];
        const onStarted = (p: string, b: string) => {
          if (p === project && !started.includes(b)) started.push(b);
        };
        // Proxy connections and API requests both keep a branch from scale to zero.
        const activity = createActivity();
        // Built first: its options (--db-schemas) are checked before anything starts.
        const app = buildApp(s.ctx, {
          // JSON lines (pino) on stderr, off stdout's output: quiet unless something fails.
          logger: {
            level: o.log ? "info" : "error",
            stream: process.stderr,
            serializers: { req: loggedRequest },
          },
          restSchemas: o.dbSchemas,
          schedules: true,
          dashboard: { project, authorize: async (key) => verifyAdminKey(s.ctx.db, key) },
          onStarted,
          activity,
        });
        if (!findProject(s.ctx, project)) {
          if (project !== "default") {
            throw new BoughError(
              "PROJECT_NOT_FOUND",
              `project "${project}" does not exist`,
              `create it with \`bough project create ${project}\``,
            );
          }
          await ensureDefaultProject(s.ctx);
          started.push("main");
        }
        for (const b of await startProject(s.ctx, { project })) started.push(b.name);
        await preparePlatform(s.ctx, { project });
        if (o.port !== undefined) setApiPort(s.ctx, o.port);
        const port = apiPort(s.ctx);
        await app.listen({ port, host: "127.0.0.1" }).catch((err: NodeJS.ErrnoException) => {
          throw new BoughError(
            "ENVIRONMENT",
            `cannot serve the HTTP API on 127.0.0.1:${port}: ${err.code ?? err.message}`,
            "pick another port with `bough up --port N`",
          );
        });
        const proxy = await listenProxy(s.ctx, {
          port: o.proxyPort,
          project,
          activity,
          onStarted,
        }).catch(async (err) => {
          await app.close();
          throw err;
        });
        const suspender = startIdleSuspender(s.ctx, activity);
        const serverUrl = `http://127.0.0.1:${port}`;
        recordServer(s.ctx.db, serverUrl, { port: proxy.port, project });
        const apiUrl = `${serverUrl}${branchPathPrefix(project, "main")}`;
        const adminKey = issueInitialAdminKey(s.ctx.db);
        const branches = await listBranchInfos(s.ctx, { project });
        const info = await status(s.ctx);
        const { storeHint } = s.ctx;
        const { cloneDriver, store } = info;
        const result = {
          project,
          cloneDriver,
          store,
          storeHint,
          apiUrl,
          serverUrl,
          proxyPort: proxy.port,
          branches,
        };
        s.out.result({ ...result, ...(adminKey && { adminKey }) }, () => {
          s.out.line(`bough is up — project ${project}, Postgres ${info.postgresVersion}`);
          s.out.line(`clone driver: ${info.cloneDriver} (${info.cloneDriverReason})`);
          if (store) s.out.line(`store: ${storeLine(store)}`);
          if (storeHint) s.out.line(storeHint);
          for (const b of branches.filter((x) => x.running)) {
            s.out.line(`  ${b.name.padEnd(12)} ${b.connectionString}`);
          }
          s.out.line(
            `postgres: 127.0.0.1:${proxy.port}, every branch (user ROLE.BRANCH; idle branches stop, and start on connect)`,
          );
          s.out.line(`api: ${apiUrl}`);
          s.out.line(`dashboard: ${serverUrl}/ (sign in with an admin key)`);
          s.out.line(`management API: ${serverUrl}/v1 (docs: ${serverUrl}/docs)`);
          if (adminKey) printAdminKey(s, adminKey);
          s.out.line('connect:  psql "$(npx bough branch url main)"');
          s.out.line("keys:     npx bough branch keys main");
          s.out.line("branch:   npx bough branch create my-feature");
          s.out.line(
            "Ctrl-C stops the clusters this command started (not those other commands start).",
          );
        });
        // Storage gc, hourly: blobs of deleted branches and replaced files go away.
        const gc = setInterval(() => void storageGc(s.ctx, { project }).catch(() => {}), 3_600_000);
        gc.unref();
        // Base snapshots for branch create --at / restore, and pruning past the window.
        const bases = setInterval(
          () => void takeDueBases(s.ctx, { project }).catch(() => {}),
          300_000,
        );
        bases.unref();
        void takeDueBases(s.ctx, { project }).catch(() => {});
        // Mail whose delivery failed right after its request is retried from here.
        const stopMail = startMailWorker(s.ctx, { project });
        // Expired branches of every project are deleted from here while the server runs.
        const expiry = startExpiryWorker(s.ctx);
        await waitForSignal();
        await expiry.stop();
        clearServer(s.ctx.db);
        clearInterval(gc);
        clearInterval(bases);
        stopMail();
        s.out.progress("stopping");
        await suspender.stop();
        await proxy.close();
        await app.close();
        const { leftRunning } = await stopBranches(s.ctx, { project, names: started });
        if (s.opts.json) return;
        s.out.line(
          `stopped ${started.length ? started.join(", ") : "nothing (it started nothing)"}`,
        );
        if (leftRunning.length > 0) {
          s.out.line(
            `still running (started by other commands): ${leftRunning.join(", ")}; \`bough branch stop NAME\` stops one`,
          );
        }
      }),
    );

  program
    .command("repair")
    .description("retry now the recovery of every interrupted operation (failed ones included)")
    .action(
      withSession(async (s) => {
        const operations = await repairInterrupted(s.ctx);
        const failed = operations.filter((o) => !o.recovered);
        s.out.result({ operations }, () => {
          if (operations.length === 0) s.out.line("nothing to repair");
          for (const o of operations) {
            const what = `${o.kind} of ${o.branch ?? "project"} (operation ${o.operation})`;
            s.out.line(
              o.recovered
                ? `recovered: ${what}`
                : `failed:    ${what}, attempt ${o.attempts}: ${o.error}`,
            );
          }
        });
        if (failed.length > 0) {
          throw new BoughError(
            "RECOVERY_FAILED",
            `${failed.length} interrupted operation(s) could not be recovered`,
            "fix the cause shown (disk space, permissions, a missing T0 clone) and run `bough repair` again, or delete the affected branch",
            { operations: failed },
          );
        }
      }),
    );
}

interface UpOptions {
  port?: number;
  dbSchemas?: string[];
  log?: boolean;
  proxyPort?: number;
}

function printAdminKey(s: Session, k: { name: string; key: string }): void {
  s.out.line(`admin key "${k.name}" (shown once, keep it): ${k.key}`);
  s.out.line(
    "  management API: Authorization: Bearer <admin key>; more: `bough admin-key create NAME`",
  );
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    // Signal listeners alone do not keep Node's event loop alive.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const done = () => {
      clearInterval(keepAlive);
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
