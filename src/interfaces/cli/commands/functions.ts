import type { Command } from "commander";
import {
  deleteFunctionOp,
  deployFunction,
  functionLogs,
  listFunctionsOp,
} from "../../../branches/functions.ts";
import { branchOrCurrent, withSession } from "../session.ts";

export function registerFunctions(program: Command): void {
  const functions = program
    .command("functions")
    .description("edge functions (Deno), stored per branch and served at /functions/v1/<name>");

  functions
    .command("deploy <name>")
    .description("deploy a function from one file or a folder (replaces the code of the same name)")
    .option("--file <path>", "a single module calling Deno.serve(handler)")
    .option("--dir <path>", "a folder of modules with relative imports")
    .option("--entrypoint <path>", "entrypoint inside --dir", "index.ts")
    .option("--no-verify-jwt", "accept calls without this branch's key or a user token")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(
        async (
          s,
          name: string,
          o: {
            file?: string;
            dir?: string;
            entrypoint: string;
            verifyJwt: boolean;
            branch?: string;
          },
        ) => {
          const r = await deployFunction(s.ctx, {
            project: s.opts.project,
            branch: await branchOrCurrent(s, o.branch),
            name,
            file: o.file,
            dir: o.dir,
            entrypoint: o.entrypoint,
            verifyJwt: o.verifyJwt,
          });
          s.out.result(r, () =>
            s.out.line(
              `${r.created ? "deployed" : "redeployed"} function ${r.name} on ${r.branch} (${r.files.length} file(s))`,
            ),
          );
        },
      ),
    );

  functions
    .command("list")
    .description("functions deployed on a branch")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, o: { branch?: string }) => {
        const list = await listFunctionsOp(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
        });
        s.out.result(list, () =>
          s.out.table(
            ["Name", "Files", "Size", "Verify JWT", "Updated"],
            list.map((f) => [
              f.name,
              f.files.length,
              f.size,
              f.verifyJwt ? "yes" : "no",
              f.updatedAt,
            ]),
          ),
        );
      }),
    );

  functions
    .command("delete <name>")
    .description("remove a function from a branch")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, name: string, o: { branch?: string }) => {
        const r = await deleteFunctionOp(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          name,
        });
        s.out.result(r, () => s.out.line(`deleted function ${r.name} on ${r.branch}`));
      }),
    );

  functions
    .command("logs <name>")
    .description("a function's last invocations: status, outcome, duration, output")
    .option("--limit <n>", "how many, newest first", "20")
    .option("--branch <name>", "branch (default: the current one)")
    .action(
      withSession(async (s, name: string, o: { limit: string; branch?: string }) => {
        const logs = await functionLogs(s.ctx, {
          project: s.opts.project,
          branch: await branchOrCurrent(s, o.branch),
          name,
          limit: Number(o.limit),
        });
        s.out.result(logs, () => {
          for (const l of logs) {
            s.out.line(`${l.startedAt}  ${l.status} ${l.outcome}  ${l.durationMs} ms`);
            for (const line of [...l.stdout.split("\n"), ...l.stderr.split("\n")])
              if (line) s.out.line(`  ${line}`);
          }
        });
      }),
    );
}
