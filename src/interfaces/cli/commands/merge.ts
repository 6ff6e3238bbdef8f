import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { compareBranches } from "../../../branches/compare.ts";
import { diffBranch } from "../../../branches/diff.ts";
import { getBranch } from "../../../branches/list.ts";
import { mergeBlockedError, mergeBranch, rebaseBranch } from "../../../branches/merge.ts";
import type { TakeOptions } from "../../../branches/merge-prepare.ts";
import {
  clearRecordedResolutions,
  listRecordedResolutions,
  resolveConflict,
} from "../../../branches/merge-resolve.ts";
import { BoughError } from "../../../core/errors.ts";
import type { Side } from "../../../merge/diff/resolve.ts";
import { branchOrCurrent, confirm, type Session, withSession } from "../session.ts";
import { runUndo } from "./merges.ts";

export function registerMerge(branch: Command): void {
  branch
    .command("diff [name] [other]")
    .description(
      "what the branch changed since T0 (and what its parent changed); with two branches, what the second has that the first has not; read-only",
    )
    .option("--at <time>", "the second branch as it was then (ISO 8601 or `date -d` text)")
    .option(...RENAME_OPTION)
    .action(
      withSession(
        async (
          s,
          name: string | undefined,
          other: string | undefined,
          o: { at?: string; rename: string[] },
        ) => {
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
            renames: o.rename,
          });
          s.out.result(d, () => {
            if (d.migrations.length) s.out.line(`migrations to replay: ${d.migrations.join(", ")}`);
            s.out.line(d.summary);
          });
        },
      ),
    );

  branch
    .command("resolve [name] [id]")
    .description(
      "record which side wins one conflict of the branch's merge (used by the next merge, shown in its preview)",
    )
    .option("--take <side>", "branch or parent")
    .option("--list", "show the decisions recorded on the branch")
    .option("--clear", "forget the decision for ID (or all of them without ID)")
    .action(
      withSession(
        async (
          s,
          name: string | undefined,
          id: string | undefined,
          o: { take?: string; list?: boolean; clear?: boolean },
        ) => {
          const target = { project: s.opts.project, name: await branchOrCurrent(s, name) };
          if (o.list) {
            const rows = listRecordedResolutions(s.ctx, target);
            return s.out.result(rows, () => {
              if (rows.length === 0) s.out.line("no resolutions recorded");
              for (const r of rows) s.out.line(`${r.conflictId}: take ${r.take} (${r.recordedAt})`);
            });
          }
          if (o.clear) {
            const r = await clearRecordedResolutions(s.ctx, { ...target, id });
            return s.out.result(r, () => s.out.line(`forgot ${r.cleared} resolution(s)`));
          }
          if (!id || o.take === undefined) {
            throw new BoughError(
              "INVALID_INPUT",
              "resolve needs a conflict id and --take branch|parent",
              "e.g. bough branch resolve feature column:public.orders.total --take branch",
            );
          }
          const r = await resolveConflict(s.ctx, {
            ...target,
            id,
            take: parseSide(o.take, "--take"),
          });
          s.out.result(r, () => {
            s.out.line(`recorded: ${r.id} takes the ${r.take}'s side when ${r.branch} merges`);
            s.out.line(
              r.remaining.length > 0
                ? `still open: ${r.remaining.join(", ")}`
                : `no conflicts left: bough branch merge ${r.branch} --dry-run shows the plan`,
            );
          });
        },
      ),
    );

  const common = (c: Command) =>
    c
      .option("--dry-run", "print the SQL it would run; change nothing")
      .option("--save-sql <file>", "also write that SQL preview to a file")
      .option(
        "--take <side-and-ids...>",
        "settle conflicts: `--take branch ID...` or `--take parent ID...` (IDs as the conflict report prints them; put NAME first)",
      )
      .option("--take-all <side>", "settle every conflict by taking one side (branch|parent)")
      .option(
        "--accept-data-loss",
        "with -y: go on even though a statement deletes data (nobody saw the preview)",
      )
      .option(
        "--accept-server-access",
        "with -y: go on even though a migration runs a program or touches server files",
      )
      .option("--allow-protected", "write into a protected branch (merges into main need no flag)")
      .option(...RENAME_OPTION);

  common(
    branch
      .command("merge [name]")
      .description("merge the branch into its parent (three-way, rehearsed, one transaction)")
      .option(
        "--into <target>",
        "merge into this branch instead of the parent (a sibling, an ancestor: any branch)",
      )
      .option(
        "--undo",
        "undo the branch's last applied merge instead (see `bough merges list`; restores the rows it dropped)",
      ),
  ).action(
    withSession(async (s, name: string | undefined, o: MergeFlags) => {
      if (!o.undo) return runMerge(s, name, o);
      if (o.into !== undefined || o.take !== undefined || o.takeAll !== undefined) {
        throw new BoughError(
          "INVALID_INPUT",
          "--undo takes no --into, --take or --take-all",
          "undo the merge by id with `bough merges undo ID` (see `bough merges list`)",
        );
      }
      return runUndo(s, { name: await branchOrCurrent(s, name) }, o);
    }),
  );

  common(
    branch
      .command("rebase [name]")
      .alias("sync")
      .description(
        "bring the parent's schema and config changes since the last merge onto the branch (keeps its data and its own changes)",
      ),
  ).action(
    withSession((s, name: string | undefined, o: MergeFlags) =>
      runMerge(s, name, { ...o, rebase: true }),
    ),
  );
}

/** `--rename table:public.a=public.b` / `column:public.t.a=b`, repeatable. */
const RENAME_OPTION = [
  "--rename <hint>",
  "a drop + create that is one object renamed: `table:public.a=public.b` or `column:public.t.a=b` (repeatable; rows are kept)",
  (v: string, all: string[]) => [...all, v],
  [] as string[],
] as const;

interface MergeFlags {
  rename: string[];
  dryRun?: boolean;
  saveSql?: string;
  take?: string[];
  takeAll?: string;
  acceptDataLoss?: boolean;
  acceptServerAccess?: boolean;
  allowProtected?: boolean;
  into?: string;
  rebase?: boolean;
  undo?: boolean;
}

/**
 * On a terminal, writing into a protected branch other than the root is asked about
 * (without one, --allow-protected is needed; into main no question is asked: merging is how main changes).
 */
async function askProtected(
  s: Session,
  o: MergeFlags,
  target: { project: string; name: string },
): Promise<boolean> {
  if (o.allowProtected) return true;
  if (o.dryRun || s.opts.yes || !process.stdin.isTTY) return false;
  const branch = await getBranch(s.ctx, target);
  const into = o.rebase ? branch.name : (o.into ?? branch.parent);
  if (into === null) return false;
  const t = into === branch.name ? branch : await getBranch(s.ctx, { ...target, name: into });
  if (!t.protected || t.parent === null) return false;
  await confirm(
    s,
    `branch "${t.name}" is protected: write the ${o.rebase ? "rebase" : "merge"} into it?`,
  );
  return true;
}

async function runMerge(s: Session, name: string | undefined, o: MergeFlags): Promise<void> {
  const what = o.rebase ? "rebase" : "merge";
  const target = { project: s.opts.project, name: await branchOrCurrent(s, name) };
  const options = {
    ...target,
    dryRun: o.dryRun,
    take: takeOptions(o.take, o.takeAll),
    renames: o.rename,
    acceptDataLoss: s.opts.yes ? (o.acceptDataLoss ?? false) : undefined,
    acceptServerAccess: s.opts.yes ? (o.acceptServerAccess ?? false) : undefined,
    allowProtected: await askProtected(s, o, target),
    // Under -y nothing is shown, so a re-planned merge that differs is refused.
    confirm: s.opts.yes
      ? undefined
      : async (preview: string, { again }: { again: boolean }) => {
          if (!s.opts.json) {
            if (again) {
              process.stderr.write(
                `the target changed while you reviewed the ${what}; this is the new plan:\n`,
              );
            }
            process.stderr.write(`${preview}\n`);
          }
          await confirm(s, `apply this ${what}?`);
        },
  };
  const r = o.rebase
    ? await rebaseBranch(s.ctx, options)
    : await mergeBranch(s.ctx, { ...options, into: o.into });
  if (o.saveSql) await writeFile(o.saveSql, r.preview);
  s.out.result(r, () => {
    if (r.dryRun || r.blocked) s.out.line(r.preview);
    else if (r.merged) {
      if (r.resolved.length > 0)
        s.out.line(
          `settled ${r.resolved.length} conflict(s): ${r.resolved.map((c) => `${c.id} (${c.take})`).join(", ")}`,
        );
      const counts = `${r.migrations.length} migration(s), ${r.statements.length} statement(s), rehearsed then applied in one transaction`;
      s.out.line(
        r.kind === "rebase"
          ? `rebased ${r.branch} onto ${r.parent}: ${counts}; its next merge holds only its own work`
          : `merged ${r.branch} into ${r.into}: ${counts}`,
      );
      for (const c of r.notCarried) s.out.line(`⚠️ not merged: ${c.message}`);
    }
  });
  if (r.blocked) throw mergeBlockedError(r);
}

const SIDES = ["branch", "parent"] as const;

export function parseSide(v: string, flag: string): Side {
  if ((SIDES as readonly string[]).includes(v)) return v as Side;
  throw new BoughError(
    "INVALID_INPUT",
    `${flag} takes branch or parent, not "${v}"`,
    `e.g. ${flag} branch column:public.orders.total`,
  );
}

/** `--take branch A B --take parent C` arrives as one list; each side word starts a run of ids. */
export function takeOptions(take: string[] | undefined, all: string | undefined): TakeOptions {
  const out: TakeOptions = {};
  if (all !== undefined) out.all = parseSide(all, "--take-all");
  let side: Side | null = null;
  for (const v of take ?? []) {
    if ((SIDES as readonly string[]).includes(v)) side = v as Side;
    else if (side === null) parseSide(v, "--take");
    else out[side] = [...(out[side] ?? []), v];
  }
  if (take && !out.branch && !out.parent) {
    throw new BoughError(
      "INVALID_INPUT",
      "--take needs a side and at least one conflict id",
      "e.g. --take branch column:public.orders.total",
    );
  }
  return out;
}
