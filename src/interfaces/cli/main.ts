import { Command, CommanderError } from "commander";
import { BoughError, toBoughError } from "../../core/errors.ts";
import { registerAdminKey } from "./commands/admin-key.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerBranch } from "./commands/branch.ts";
import { registerEmail } from "./commands/email.ts";
import { registerFunctions } from "./commands/functions.ts";
import { registerMask } from "./commands/mask.ts";
import { registerMcp } from "./commands/mcp.ts";
import { registerMerges } from "./commands/merges.ts";
import { registerMigrate } from "./commands/migrate.ts";
import { registerProject } from "./commands/project.ts";
import { registerSchedules } from "./commands/schedules.ts";
import { registerSecrets } from "./commands/secrets.ts";
import { registerStorage } from "./commands/storage.ts";
import { registerStore } from "./commands/store.ts";
import { registerSystem } from "./commands/system.ts";
import { registerTablePolicy } from "./commands/table-policy.ts";
import { createOutput, EXIT, exitCodeFor, ReportedError } from "./output.ts";

function buildProgram(): Command {
  const program = new Command("bough")
    .description("git-style branches for a whole Postgres-backed backend")
    .option(
      "--home <dir>",
      "data directory (default $BOUGH_HOME, ~/.bough, or /var/lib/bough as root)",
    )
    .option("--project <name>", "project to act on (default $BOUGH_PROJECT or 'default')")
    .option("--json", "machine-readable output")
    .option("-y, --yes", "skip confirmations")
    .showHelpAfterError()
    .exitOverride();
  registerSystem(program);
  registerProject(program);
  registerBranch(program);
  registerMerges(program);
  registerMigrate(program);
  registerStorage(program);
  registerStore(program);
  registerFunctions(program);
  registerSecrets(program);
  registerMask(program);
  registerEmail(program);
  registerSchedules(program);
  registerAdminKey(program);
  registerAudit(program);
  registerMcp(program);
  registerTablePolicy(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; everything else commander rejects is bad usage.
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.exitCode === 0
      ) {
        return EXIT.ok;
      }
      if (err.code === "commander.help") return EXIT.ok;
      if (json) {
        createOutput({ json }).error(
          new BoughError(
            "INVALID_INPUT",
            err.message.replace(/^error: /, ""),
            "run `bough --help`",
          ),
        );
      }
      return EXIT.usage;
    }
    if (err instanceof ReportedError) return exitCodeFor(err.error);
    const e = toBoughError(err);
    createOutput({ json }).error(e);
    return exitCodeFor(e);
  }
}
