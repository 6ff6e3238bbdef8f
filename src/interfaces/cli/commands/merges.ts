import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { mergeBlockedError } from "../../../branches/merge.ts";
import { type UndoOptions, undoMerge } from "../../../branches/merge-undo.ts";
import { listMergeInfos } from "../../../branches/merges.ts";
import { BoughError } from "../../../core/errors.ts";
import { confirm, type Session, withSession } from "../session.ts";

export interface UndoFlags {
  dryRun?: boolean;
  saveSql?: string;
  acceptDataLoss?: boolean;
  allowProtected?: boolean;
}

/** `bough merges list|undo`: the project's applied merges, and undoing one of them. */
export function registerMerges(program: Command): void {
  const merges = program
    .command("merges")
    .description("the merges applied in the project, and undoing one of them");

  merges
    .command("list")
    .description("applied merges (merge, --into, rebase), newest first; read-only")
    .action(
      withSession(async (s) => {
        const rows = await listMergeInfos(s.ctx, { project: s.opts.project });
        s.out.result(rows, () => {
          if (rows.length === 0) return s.out.line("no merges applied yet");
          s.out.table(
            ["Id", "Kind", "Branch", "Into", "Applied", "Statements", "Undo"],
            rows.map((m) => [
              m.id,
              m.kind,
              m.kind === "rebase" ? `${m.branch} (onto ${m.source})` : m.branch,
              m.target,
              m.appliedAt.replace("T", " ").slice(0, 19),
              m.statements,
              m.undoneAt
                ? `undone ${m.undoneAt.replace("T", " ").slice(0, 19)}`
                : m.undoable
                  ? "available"
                  : "outside history",
            ]),
          );
        });
      }),
    );

  merges
    .command("undo <id>")
    .description(
      "revert a merge's schema and config changes and restore the rows it dropped (refused with conflicts when its objects changed since)",
    )
    .option("--dry-run", "print the SQL it would run; change nothing")
    .option("--save-sql <file>", "also write that SQL preview to a file")
    .option("--accept-data-loss", "with -y: go on even though a statement deletes data")
    .option(
      "--allow-protected",
      "write into a protected branch (undoing a merge into main needs no flag)",
    )
    .action(
      withSession((s, id: string, o: UndoFlags) => {
        if (!/^\d+$/.test(id)) {
          throw new BoughError(
            "INVALID_INPUT",
            `"${id}" is not a merge id`,
            "see `bough merges list`",
          );
        }
        return runUndo(s, { id: Number(id) }, o);
      }),
    );
}

/** Undo one merge, by id or as the last merge of a branch (`bough branch merge NAME --undo`). */
export async function runUndo(
  s: Session,
  which: Pick<UndoOptions, "id" | "name">,
  o: UndoFlags,
): Promise<void> {
  const r = await undoMerge(s.ctx, {
    project: s.opts.project,
    ...which,
    dryRun: o.dryRun,
    acceptDataLoss: s.opts.yes ? (o.acceptDataLoss ?? false) : undefined,
    allowProtected: o.allowProtected,
    confirm: s.opts.yes
      ? undefined
      : async (preview, { again }) => {
          if (!s.opts.json) {
            if (again)
              process.stderr.write("the target changed meanwhile; this is the new plan:\n");
            process.stderr.write(`${preview}\n`);
          }
          await confirm(s, "apply this undo?");
        },
  });
  if (o.saveSql) await writeFile(o.saveSql, r.preview);
  s.out.result(r, () => {
    if (r.dryRun || r.blocked) s.out.line(r.preview);
    else if (r.merged) {
      const rows = r.undo?.restored.map((x) => `${x.objectId} (${x.rows} row(s))`) ?? [];
      s.out.line(
        `undid merge ${r.undo?.mergeId} on ${r.into}: ${r.statements.length} statement(s), rehearsed then applied in one transaction${rows.length > 0 ? `; restored ${rows.join(", ")}` : ""}`,
      );
      for (const n of r.undo?.notRestored ?? []) s.out.line(`not restored: ${n}`);
    }
  });
  if (r.blocked) throw mergeBlockedError(r);
}
