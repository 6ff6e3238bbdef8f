import type { Command } from "commander";
import { branchHistory } from "../../../branches/history.ts";
import { statementLine } from "../../../platform/ddl-log/links.ts";
import type { DdlEntry } from "../../../platform/ddl-log/read.ts";
import { branchOrCurrent, withSession } from "../session.ts";

/** "alice" or "alice as app_owner", and the client when it said who it is. */
export function ddlActor(e: Pick<DdlEntry, "sessionUser" | "currentUser" | "applicationName">) {
  const who =
    e.currentUser === e.sessionUser ? e.sessionUser : `${e.sessionUser} as ${e.currentUser}`;
  return e.applicationName ? `${who} (${e.applicationName})` : who;
}

export function registerHistory(branch: Command): void {
  branch
    .command("history [name]")
    .description("the DDL statements run on the branch since its fork (T0): who, when, what")
    .option("--since <time>", "only since an ISO time or an age (30m, 1h, 7d)")
    .action(
      withSession(async (s, name: string | undefined, o: { since?: string }) => {
        const h = await branchHistory(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
          since: o.since,
        });
        s.out.result(h, () => {
          if (h.entries.length === 0) {
            s.out.line(`no DDL recorded on ${h.branch} since ${h.forkedAt ?? "it was created"}`);
            return;
          }
          s.out.table(
            ["Id", "At", "By", "Command", "Statement", "Objects"],
            h.entries.map((e) => [
              e.id,
              e.at.replace("T", " ").slice(0, 19),
              ddlActor(e),
              e.commandTag,
              statementLine(e.statement),
              e.objects.map((x) => x.identity ?? x.type).join(", "),
            ]),
          );
        });
      }),
    );
}
