import type { Command } from "commander";
import { tablePolicyList, tablePolicySet } from "../../../branches/table-policies.ts";
import { TABLE_POLICIES } from "../../../merge/table-policies.ts";
import { branchOrCurrent, withSession } from "../session.ts";

const list = (v: string) =>
  v
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c.length > 0);

export function registerTablePolicy(program: Command): void {
  const cmd = program
    .command("table-policy")
    .description("how a table's rows merge (bough.table_policies): upsert, merge-rows or ignore");

  cmd
    .command("set <table> <policy>")
    .description(
      `set SCHEMA.TABLE's merge policy (${TABLE_POLICIES.join(" | ")}); merge-rows merges rows by primary key, cell by cell`,
    )
    .option(
      "--key <cols>",
      "key columns, comma-separated (upsert; merge-rows uses the primary key)",
      list,
    )
    .option("--exclude <cols>", "columns never read, shown or merged, comma-separated", list)
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(
        async (
          s,
          table: string,
          policy: string,
          o: { key?: string[]; exclude?: string[]; branch?: string },
        ) => {
          const branch = await branchOrCurrent(s, o.branch);
          const r = await tablePolicySet(s.ctx, {
            project: s.opts.project,
            branch,
            table,
            policy,
            keyColumns: o.key,
            exclude: o.exclude,
          });
          s.out.result(r, () =>
            s.out.line(
              `${r.table}: ${r.policy}${r.key.length > 0 ? ` by (${r.key.join(", ")})` : ""}${r.excluded.length > 0 ? `, excluding ${r.excluded.join(", ")}` : ""} on ${branch}`,
            ),
          );
        },
      ),
    );

  cmd
    .command("list")
    .description("every table's merge policy on a branch")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const rows = await tablePolicyList(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(rows, () =>
          s.out.table(
            ["Table", "Policy", "Key", "Excluded"],
            rows.map((p) => [p.table, p.policy, p.key.join(", "), p.excluded.join(", ")]),
          ),
        );
      }),
    );
}
