import type { Command } from "commander";
import { readAudit } from "../../../control/audit.ts";
import { durationMs } from "../../../core/duration.ts";
import { BoughError } from "../../../core/errors.ts";
import { withSession } from "../session.ts";

/** `--since`: an ISO instant, or an age such as 30m, 1h, 7d. */
export function sinceInstant(t: string, now = Date.now()): string {
  const age = durationMs(t);
  if (age !== null) return new Date(now - age).toISOString();
  const at = Date.parse(t);
  if (Number.isNaN(at)) {
    throw new BoughError(
      "INVALID_INPUT",
      `--since "${t}" is neither an ISO time nor an age`,
      "use e.g. --since 2026-01-31T12:00:00Z or --since 1h (s, m, h, d)",
    );
  }
  return new Date(at).toISOString();
}

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
