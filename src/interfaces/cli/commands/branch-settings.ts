import type { Command } from "commander";
import { protectBranch, unprotectBranch } from "../../../branches/protect.ts";
import { renameBranch } from "../../../branches/rename.ts";
import { setBranch } from "../../../branches/set.ts";
import { withSession } from "../session.ts";
import { durationArg, printBranch, SUSPEND_AFTER_HELP } from "./branch.ts";

/** `bough branch set|protect|unprotect|rename`: a branch's settings and name. */
export function registerBranchSettings(branch: Command): void {
  branch
    .command("set <name>")
    .description("change a branch's settings (expiry, idle timeout)")
    .option("--expires-in <duration>", "delete it after this long from now: 30m, 2h, 7d")
    .option("--expires-at <time>", "delete it at this time (ISO 8601)")
    .option("--no-expiry", "never delete it by expiry")
    .option("--suspend-after <duration>", SUSPEND_AFTER_HELP, durationArg)
    .action(
      withSession(
        async (
          s,
          name: string,
          o: { expiresIn?: string; expiresAt?: string; expiry: boolean; suspendAfter?: number },
        ) => {
          const b = await setBranch(s.ctx, {
            project: s.opts.project,
            name,
            expiresIn: o.expiresIn,
            expiresAt: o.expiresAt,
            noExpiry: o.expiry === false,
            suspendAfterMs: o.suspendAfter,
          });
          s.out.result(b, () => printBranch(s, b));
        },
      ),
    );

  for (const [verb, op, what] of [
    ["protect", protectBranch, "refuse reset, restore, delete and agent writes on a branch"],
    ["unprotect", unprotectBranch, "allow reset, restore and delete again"],
  ] as const) {
    branch
      .command(`${verb} <name>`)
      .description(what)
      .action(
        withSession(async (s, name: string) => {
          const b = await op(s.ctx, { project: s.opts.project, name });
          s.out.result(b, () =>
            s.out.line(`${b.name} is ${b.protected ? "protected" : "not protected"}`),
          );
        }),
      );
  }

  branch
    .command("rename <name> <new-name>")
    .description("rename a branch (same cluster, port, data and keys; its API path follows)")
    .action(
      withSession(async (s, name: string, newName: string) => {
        const b = await renameBranch(s.ctx, { project: s.opts.project, name, newName });
        s.out.result(b, () => s.out.line(`renamed ${name} to ${b.name}`));
      }),
    );
}
