import type { Command } from "commander";
import { secretsList, secretsPolicy, secretsSet, secretsUnset } from "../../../branches/secrets.ts";
import { branchOrCurrent, withSession } from "../session.ts";
import { readSecretStdin } from "../stdin.ts";

export function registerSecrets(program: Command): void {
  const secrets = program
    .command("secrets")
    .description("encrypted secrets a branch's functions get as env (never merged, never shown)");

  secrets
    .command("set <key>")
    .description("set a secret on a branch (value from --value or stdin)")
    .option("--value <value>", "the value (default: read from stdin)")
    .option("--production-only", "never visible on branches created from this one")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(
        async (
          s,
          key: string,
          o: { value?: string; productionOnly?: boolean; branch?: string },
        ) => {
          const value = o.value ?? (await readSecretStdin("secret value", "--value"));
          const r = await secretsSet(s.ctx, {
            project: s.opts.project,
            branch: await branchOrCurrent(s, o.branch),
            key,
            value,
            productionOnly: o.productionOnly,
          });
          s.out.result(r, () =>
            s.out.line(
              `set ${r.key} on ${r.branch}${r.productionOnly ? " (production-only)" : ""}`,
            ),
          );
        },
      ),
    );

  secrets
    .command("list")
    .description("a branch's secrets: names and where they come from, never values")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const list = await secretsList(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(list, () =>
          s.out.table(
            ["Key", "Source", "Exposed as", "Production-only", "Updated"],
            list.map((e) => [
              e.key,
              e.inherited ? `${e.source} (inherited)` : e.source,
              e.exposure === "unreadable" ? "unreadable (row altered)" : e.exposure,
              e.productionOnly ? "yes" : "no",
              e.updatedAt,
            ]),
          ),
        );
      }),
    );

  secrets
    .command("unset <key>")
    .description("remove a secret from a branch")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, key: string, o: { branch?: string }) => {
        const branch = await branchOrCurrent(s, o.branch);
        const r = await secretsUnset(s.ctx, { project: s.opts.project, branch, key });
        s.out.result(r, () => s.out.line(`unset ${r.key} on ${branch}`));
      }),
    );

  secrets
    .command("policy [policy]")
    .description(
      "what branches created from now on see of inherited secrets: copy, empty or mask (production-only ones: never)",
    )
    .action(
      withSession(async (s, policy: string | undefined) => {
        const r = await secretsPolicy(s.ctx, { project: s.opts.project, policy });
        s.out.result(r, () => s.out.line(`secrets policy of ${r.project}: ${r.policy}`));
      }),
    );
}
