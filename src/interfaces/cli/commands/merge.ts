import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { compareBranches } from "../../../branches/compare.ts";
import { diffBranch } from "../../../branches/diff.ts";
import { mergeBlockedError, mergeBranch } from "../../../branches/merge.ts";
import { branchOrCurrent, confirm, withSession } from "../session.ts";

export function registerMerge(branch: Command): void {
  branch
    .command("diff [name] [other]")
    .description(
      "what the branch changed since T0 (and what its parent changed); with two branches, what the second has that the first has not; read-only",
    )
    .option("--at <time>", "the second branch as it was then (ISO 8601 or `date -d` text)")
    .action(
      withSession(
        async (s, name: string | undefined, other: string | undefined, o: { at?: string }) => {
          if (other !== undefined || o.at !== undefined) {
            const c = await compareBranches(s.ctx, {
              project: s.opts.project,
              a: await branchOrCurrent(s, name),
              b: other ?? (await branchOrCurrent(s, name)),
              at: o.at,
            });
            s.out.result(c, () => s.out.line(c.summary));
            return;
          }
          const d = await diffBranch(s.ctx, {
            project: s.opts.project,
            name: await branchOrCurrent(s, name),
          });
          s.out.result(d, () => {
            if (d.migrations.length) s.out.line(`migrations to replay: ${d.migrations.join(", ")}`);
            s.out.line(d.summary);
          });
        },
      ),
    );

  branch
    .command("merge [name]")
    .description("merge the branch into its parent (three-way, rehearsed, one transaction)")
    .option("--dry-run", "print the SQL the merge would run; change nothing")
    .option("--save-sql <file>", "also write that SQL preview to a file")
    .action(
      withSession(
        async (s, name: string | undefined, o: { dryRun?: boolean; saveSql?: string }) => {
          const r = await mergeBranch(s.ctx, {
            project: s.opts.project,
            name: await branchOrCurrent(s, name),
            dryRun: o.dryRun,
            // Under -y nothing is shown, so a re-planned merge that differs is refused.
            confirm: s.opts.yes
              ? undefined
              : async (preview, { again }) => {
                  if (!s.opts.json) {
                    if (again) {
                      process.stderr.write(
                        "the parent changed while you reviewed the merge; this is the new plan:\n",
                      );
                    }
                    process.stderr.write(`${preview}\n`);
                  }
                  await confirm(s, `apply this merge to the parent?`);
                },
          });
          if (o.saveSql) await writeFile(o.saveSql, r.preview);
          s.out.result(r, () => {
            if (r.dryRun || r.blocked) s.out.line(r.preview);
            else if (r.merged) {
              const n = r.statements.length;
              s.out.line(
                `merged ${r.branch} into ${r.parent}: ${r.migrations.length} migration(s), ${n} statement(s), rehearsed then applied in one transaction`,
              );
            }
          });
          if (r.blocked) throw mergeBlockedError(r);
        },
      ),
    );
}
