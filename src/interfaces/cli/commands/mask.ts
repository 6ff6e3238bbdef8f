import type { Command } from "commander";
import { maskList, maskSet, maskUnset } from "../../../branches/mask.ts";
import { RULE_SYNTAX } from "../../../platform/mask/rules.ts";
import { branchOrCurrent, withSession } from "../session.ts";

export function registerMask(program: Command): void {
  const mask = program
    .command("mask")
    .description("masking rules that `bough branch create --mask` applies to the copy's data");

  mask
    .command("set <column> <rule>")
    .description(`mask SCHEMA.TABLE.COLUMN on branches created with --mask; rule: ${RULE_SYNTAX}`)
    .option("--branch <name>", "branch whose rules to change (default: the current one)")
    .action(
      withSession(async (s, column: string, rule: string, o: { branch?: string }) => {
        const r = await maskSet(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          column,
          rule,
        });
        s.out.result(r, () => {
          s.out.line(`${r.column}: ${r.rule} (on ${r.branch})`);
          for (const w of r.warnings) s.out.line(`warning: ${w}; mask it the same way too`);
        });
      }),
    );

  mask
    .command("list")
    .description("the masking rules of a branch")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const list = await maskList(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(list, () =>
          s.out.table(
            ["Column", "Rule"],
            list.map((r) => [r.column, r.rule]),
          ),
        );
      }),
    );

  mask
    .command("unset <column>")
    .description("remove the masking rule of SCHEMA.TABLE.COLUMN")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, column: string, o: { branch?: string }) => {
        const r = await maskUnset(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          column,
        });
        s.out.result(r, () => s.out.line(`unset ${r.column} on ${r.branch}`));
      }),
    );
}
