import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { diffBranch } from "../../../branches/diff.ts";
import { getBranch } from "../../../branches/list.ts";
import { mergeBlockedError, mergeBranch } from "../../../branches/merge.ts";
import { branchOrCurrent, confirm, type Session, withSession } from "../session.ts";

/**
 * On a terminal, a merge into a protected parent other than the root is asked about
 * (without one, --allow-protected is needed; into main no question is asked: merging is how main changes).
 */
async function askProtectedParent(
  s: Session,
  target: { project: string; name: string },
  o: { dryRun?: boolean },
): Promise<boolean> {
  if (o.dryRun || s.opts.yes || !process.stdin.isTTY) return false;
  const branch = await getBranch(s.ctx, target);
  if (branch.parent === null) return false;
  const parent = await getBranch(s.ctx, { project: target.project, name: branch.parent });
  if (!parent.protected || parent.parent === null) return false;
  await confirm(s, `branch "${parent.name}" is protected: merge ${branch.name} into it?`);
  return true;
}

export function registerMerge(branch: Command): void {
  branch
    .command("diff [name]")
    .description("what the branch changed since T0 (and what its parent changed), read-only")
    .action(
      withSession(async (s, name: string | undefined) => {
        const d = await diffBranch(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
        });
        s.out.result(d, () => {
          if (d.migrations.length) s.out.line(`migrations to replay: ${d.migrations.join(", ")}`);
          s.out.line(d.summary);
        });
      }),
    );

  branch
    .command("merge [name]")
    .description("merge the branch into its parent (three-way, rehearsed, one transaction)")
    .option("--dry-run", "print the SQL the merge would run; change nothing")
    .option("--save-sql <file>", "also write that SQL preview to a file")
    .option("--allow-protected", "merge into a protected parent (main needs no flag)")
    .action(
      withSession(
        async (
          s,
          name: string | undefined,
          o: { dryRun?: boolean; saveSql?: string; allowProtected?: boolean },
        ) => {
          const target = { project: s.opts.project, name: await branchOrCurrent(s, name) };
          const r = await mergeBranch(s.ctx, {
            ...target,
            dryRun: o.dryRun,
            allowProtected: o.allowProtected || (await askProtectedParent(s, target, o)),
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
