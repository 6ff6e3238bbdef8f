import { type Command, InvalidArgumentError, Option } from "commander";
import { createBranch } from "../../../branches/create.ts";
import { deleteBranch } from "../../../branches/delete.ts";
import type { BranchInfo } from "../../../branches/info.ts";
import { type BranchKeysResult, branchKeys } from "../../../branches/keys.ts";
import { getBranch, listBranchInfos, showBranch } from "../../../branches/list.ts";
import { resetBranch } from "../../../branches/reset.ts";
import { startBranchOp, stopBranchOp } from "../../../branches/start-stop.ts";
import { setSuspendAfter } from "../../../branches/suspend-after.ts";
import { switchBranch } from "../../../branches/switch.ts";
import { parseDuration } from "../../../core/duration.ts";
import { BoughError } from "../../../core/errors.ts";
import type { BranchMode } from "../../../core/types.ts";
import { formatBytes } from "../output.ts";
import { branchOrCurrent, confirm, type Session, withSession } from "../session.ts";
import { registerHistory } from "./history.ts";
import { registerMerge } from "./merge.ts";

const modeLabel = (b: BranchInfo) => (b.masked ? `${b.mode}, masked` : b.mode);
const runningLabel = (b: BranchInfo) =>
  b.crashed ? "crashed" : b.running ? "yes" : b.idle ? "idle" : "no";

const SUSPEND_AFTER_HELP =
  "stop it after this long without connections (30s, 5m, 2h, never; default 5m, never for main)";

function durationArg(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function printKeys(s: Session, k: BranchKeysResult) {
  s.out.line(`api:      ${k.apiUrl}`);
  s.out.line(`publishable key: ${k.publishableKey}`);
  s.out.line(`secret key:      ${k.secretKey}`);
}

function printBranch(s: Session, b: BranchInfo) {
  s.out.line(`name:     ${b.name}`);
  s.out.line(`parent:   ${b.parent ?? "-"}`);
  s.out.line(`mode:     ${modeLabel(b)}`);
  s.out.line(`state:    ${b.state}`);
  s.out.line(`running:  ${runningLabel(b)} (stops after ${b.suspendAfter} idle)`);
  s.out.line(`url:      ${b.connectionString}`);
}

export function registerBranch(program: Command): void {
  const branch = program
    .command("branch")
    .description("create, inspect, diff, merge, reset and delete branches");

  branch
    .command("create <name>")
    .description("create a branch: an instant copy-on-write clone of its parent")
    .option("--from <parent>", "parent branch", "main")
    .addOption(
      new Option("--mode <mode>", "what to copy").choices(["full", "schema-only"]).default("full"),
    )
    .option("--no-switch", "do not make it the current branch")
    .option("--mask", "anonymize the copy with the parent's `bough mask` rules and its auth users")
    .option("--suspend-after <duration>", SUSPEND_AFTER_HELP, durationArg)
    .action(
      withSession(
        async (
          s,
          name: string,
          o: {
            from: string;
            mode: BranchMode;
            switch: boolean;
            mask?: boolean;
            suspendAfter?: number;
          },
        ) => {
          const r = await createBranch(s.ctx, {
            project: s.opts.project,
            name,
            from: o.from,
            mode: o.mode,
            switchTo: o.switch,
            mask: o.mask,
            suspendAfterMs: o.suspendAfter,
          });
          s.out.result(
            { ...r.branch, elapsedMs: Math.round(r.elapsedMs), cloneDriver: r.cloneDriver },
            () => {
              printBranch(s, r.branch);
              const note =
                r.cloneDriver === "copy" ? " (full copy: this filesystem has no reflink)" : "";
              s.out.line(
                `created in ${(r.elapsedMs / 1000).toFixed(2)} s with the ${r.cloneDriver} driver${note}`,
              );
            },
          );
        },
      ),
    );

  branch
    .command("list")
    .description("list the project's branches")
    .action(
      withSession(async (s) => {
        const items = await listBranchInfos(s.ctx, { project: s.opts.project });
        s.out.result(items, () =>
          s.out.table(
            ["Name", "Parent", "Mode", "State", "Running", "Created", "Disk"],
            items.map((b) => [
              b.name,
              b.parent ?? "-",
              modeLabel(b),
              b.state,
              runningLabel(b),
              b.createdAt.replace("T", " ").slice(0, 19),
              formatBytes(b.diskBytes),
            ]),
          ),
        );
      }),
    );

  branch
    .command("show [name]")
    .description("everything known about one branch")
    .action(
      withSession(async (s, name: string | undefined) => {
        const target = { project: s.opts.project, name: await branchOrCurrent(s, name) };
        const d = await showBranch(s.ctx, target);
        // A branch another process is creating or deleting gets no keys (yet, or any more).
        const keys = ["creating", "deleting"].includes(d.state)
          ? null
          : await branchKeys(s.ctx, target);
        s.out.result({ ...d, ...keys }, () => {
          printBranch(s, d);
          s.out.line(`port:     ${d.port}`);
          s.out.line(`created:  ${d.createdAt}`);
          s.out.line(
            `T0:       ${d.forkedAt ? `${d.forkedAt} at LSN ${d.forkLsn}` : "- (root branch)"}`,
          );
          s.out.line(`disk:     ${formatBytes(d.diskBytes)} added (${d.cloneDriver} driver)`);
          s.out.line(`data:     ${d.dataDir}`);
          s.out.line(`children: ${d.children.join(", ") || "-"}`);
          if (d.lastError) s.out.line(`error:    ${d.lastError}`);
          if (keys) printKeys(s, keys);
        });
      }),
    );

  branch
    .command("keys [name]")
    .description("the branch's API URL, publishable (anon) and secret (service_role) keys")
    .option("--rotate", "replace both keys (the old ones stop working at once)")
    .action(
      withSession(async (s, name: string | undefined, o: { rotate?: boolean }) => {
        const keys = await branchKeys(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
          rotate: o.rotate,
        });
        s.out.result(keys, () => printKeys(s, keys));
      }),
    );

  branch
    .command("switch <name>")
    .description("make a branch the current one for later commands")
    .action(
      withSession(async (s, name: string) => {
        const b = await switchBranch(s.ctx, { project: s.opts.project, name });
        s.out.result(b, () => s.out.line(`switched to ${b.name}`));
      }),
    );

  branch
    .command("start [name]")
    .description("start a branch's Postgres (recovers it after a crash)")
    .action(
      withSession(async (s, name: string | undefined) => {
        const b = await startBranchOp(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
        });
        s.out.result(b, () => s.out.line(`${b.name} running: ${b.connectionString}`));
      }),
    );

  branch
    .command("stop [name]")
    .description("stop a branch's Postgres")
    .action(
      withSession(async (s, name: string | undefined) => {
        const b = await stopBranchOp(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
        });
        s.out.result(b, () => s.out.line(`${b.name} stopped`));
      }),
    );

  branch
    .command("url [name]")
    .description("print the branch's connection string only")
    .action(
      withSession(async (s, name: string | undefined) => {
        const d = await getBranch(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
        });
        s.out.result({ name: d.name, connectionString: d.connectionString }, () =>
          s.out.line(d.connectionString),
        );
      }),
    );

  branch
    .command("set <name>")
    .description("change a branch's settings")
    .option("--suspend-after <duration>", SUSPEND_AFTER_HELP, durationArg)
    .action(
      withSession(async (s, name: string, o: { suspendAfter?: number }) => {
        if (o.suspendAfter === undefined) {
          throw new BoughError(
            "INVALID_INPUT",
            "nothing to set",
            "pass --suspend-after DURATION|never",
          );
        }
        const b = await setSuspendAfter(s.ctx, {
          project: s.opts.project,
          name,
          suspendAfterMs: o.suspendAfter,
        });
        s.out.result(b, () => s.out.line(`${b.name}: stops after ${b.suspendAfter} idle`));
      }),
    );

  branch
    .command("reset [name]")
    .description("throw the branch's work away: back to exactly its T0 state")
    .action(
      withSession(async (s, name: string | undefined) => {
        const b = await resetBranch(s.ctx, {
          project: s.opts.project,
          name: await branchOrCurrent(s, name),
        });
        s.out.result(b, () => s.out.line(`${b.name} reset to T0 (${b.forkedAt})`));
      }),
    );

  branch
    .command("delete <name>")
    .description("stop and remove a branch, its T0 clone and its port")
    .option("--recursive", "also delete its child branches")
    .action(
      withSession(async (s, name: string, o: { recursive?: boolean }) => {
        await confirm(s, `delete branch "${name}"${o.recursive ? " and its children" : ""}?`);
        const deleted = await deleteBranch(s.ctx, {
          project: s.opts.project,
          name,
          recursive: o.recursive,
        });
        s.out.result({ deleted }, () => s.out.line(`deleted ${deleted.join(", ")}`));
      }),
    );

  registerMerge(branch);
  registerHistory(branch);
}
