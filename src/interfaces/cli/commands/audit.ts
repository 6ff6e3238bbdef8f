import type { Command } from "commander";
import { readAudit } from "../../../control/audit.ts";
import { sinceInstant } from "../../../core/since.ts";
import { withSession } from "../session.ts";

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("the append-only audit log: who did what to which branch, and how it ended")
    .option("--branch <name>", "only actions on this branch")
    .option("--since <time>", "only since an ISO time or an age (30m, 1h, 7d)")
    .action(
      withSession(async (s, o: { branch?: string; since?: string }) => {
        const rows = readAudit(s.ctx.db, {
          project: s.opts.project,
          branch: o.branch,
          since: o.since === undefined ? undefined : sinceInstant(o.since),
        });
        s.out.result(rows, () =>
          s.out.table(
            ["At", "Actor", "Action", "Branch", "Result", "Ms"],
            rows.map((r) => [
              r.at.replace("T", " ").slice(0, 19),
              r.actor
                ? `${r.actor.kind}:${r.actor.name}${r.actor.client ? ` (${r.actor.client})` : ""}`
                : "-",
              r.action,
              r.branch ?? "-",
              r.result,
              String(r.durationMs ?? "-"),
            ]),
          ),
        );
      }),
    );
}
