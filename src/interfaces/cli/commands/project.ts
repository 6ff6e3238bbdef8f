import type { Command } from "commander";
import { setHistoryConfig } from "../../../branches/pitr-bases.ts";
import { createProject, deleteProject, listAllProjects } from "../../../branches/projects.ts";
import { confirm, withSession } from "../session.ts";

export function registerProject(program: Command): void {
  const project = program.command("project").description("projects: each has its own main branch");

  project
    .command("create <name>")
    .description("create a project with its main branch")
    .action(
      withSession(async (s, name: string) => {
        const p = await createProject(s.ctx, { name });
        s.out.result({ name: p.name, createdAt: p.createdAt }, () =>
          s.out.line(`created project ${p.name} (branch main)`),
        );
      }),
    );

  project
    .command("list")
    .description("list projects")
    .action(
      withSession(async (s) => {
        const list = await listAllProjects(s.ctx);
        const rows = list.map((p) => ({ name: p.name, createdAt: p.createdAt }));
        s.out.result(rows, () =>
          s.out.table(
            ["Name", "Created"],
            rows.map((p) => [p.name, p.createdAt]),
          ),
        );
      }),
    );

  project
    .command("set [name]")
    .description("project settings: how much history branches keep (branch create --at, restore)")
    .option("--history <duration>", "history window, e.g. 24h or 7d (default 24h)")
    .option("--base-every <duration>", "how often `bough up` takes a base snapshot (default 6h)")
    .action(
      withSession(
        async (s, name: string | undefined, o: { history?: string; baseEvery?: string }) => {
          const c = await setHistoryConfig(s.ctx, { project: name ?? s.opts.project, ...o });
          const h = (ms: number) => `${Math.round(ms / 60_000) / 60} h`;
          s.out.result(c, () =>
            s.out.line(`history window ${h(c.retentionMs)}, a base every ${h(c.baseEveryMs)}`),
          );
        },
      ),
    );

  project
    .command("delete <name>")
    .description("delete a project and every branch in it")
    .action(
      withSession(async (s, name: string) => {
        await confirm(s, `delete project "${name}" and all its branches?`);
        await deleteProject(s.ctx, { name });
        s.out.result({ deleted: name }, () => s.out.line(`deleted project ${name}`));
      }),
    );
}
