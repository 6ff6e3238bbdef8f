import type { Command } from "commander";
import { migrateApply, migrateList } from "../../../branches/migrate.ts";
import { branchOrCurrent, withSession } from "../session.ts";

export function registerMigrate(program: Command): void {
  const migrate = program
    .command("migrate")
    .description("recorded SQL migrations, replayed first on merge");

  migrate
    .command("apply <file>")
    .description("run a SQL migration file on a branch (one transaction) and record it")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, file: string, o: { branch?: string }) => {
        const r = await migrateApply(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          file,
        });
        s.out.result(r, () =>
          s.out.line(
            r.applied
              ? `applied ${r.name} on ${r.branch}`
              : `${r.name} was already applied on ${r.branch}`,
          ),
        );
      }),
    );

  migrate
    .command("list")
    .description("migrations recorded on a branch, in order")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const list = await migrateList(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(list, () =>
          s.out.table(
            ["Name", "Checksum"],
            list.map((m) => [m.name, m.checksum.slice(0, 12)]),
          ),
        );
      }),
    );
}
