import { userInfo } from "node:os";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type Ctx, type OpenOptions, openContext } from "../../branches/context.ts";
import { DEFAULT_PROJECT } from "../../branches/projects.ts";
import { currentBranch } from "../../branches/switch.ts";
import { BoughError, toBoughError } from "../../core/errors.ts";
import { createOutput, type Output, ReportedError } from "./output.ts";

export interface GlobalOptions {
  home?: string;
  project: string;
  json: boolean;
  yes: boolean;
}

/** What every command handler gets: parsed global options, the output writer, the context. */
export interface Session {
  opts: GlobalOptions;
  out: Output;
  ctx: Ctx;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  return {
    home: o.home,
    project: o.project ?? process.env.BOUGH_PROJECT ?? DEFAULT_PROJECT,
    json: o.json ?? false,
    yes: o.yes ?? false,
  };
}

/** Wraps a handler: opens the context, runs, always closes it. Errors reach main.ts. */
export function withSession<A extends unknown[]>(
  handler: (s: Session, ...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const opts = globalOptions(cmd);
    const out = createOutput({ json: opts.json });
    const opened = await openContext({
      home: opts.home,
      progress: (l) => out.progress(l),
      ...storeOptionsOf(cmd),
    });
    // The audit log names the OS user who ran the command.
    const ctx = { ...opened, actor: { kind: "cli" as const, name: userInfo().username } };
    try {
      await handler({ opts, out, ctx }, ...args);
    } catch (err) {
      const e = toBoughError(err);
      if (process.env.BOUGH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      out.error(e);
      throw new ReportedError(e);
    } finally {
      ctx.close();
    }
  };
}

/**
 * The options of a command that may create the store, or record --no-store (init, up):
 * `.addOption(storeSizeOption()).addOption(noStoreOption())`. Every other command only
 * mounts an existing store.
 */
export const storeSizeOption = () =>
  new Option(
    "--store-size <size>",
    "size of the sparse XFS image made for instant branches on a filesystem without reflink (default: half the free space, at most 64G)",
  ).argParser(parseSize);

export const noStoreOption = () =>
  new Option("--no-store", "never make that image on this home (branches stay full copies)");

function storeOptionsOf(cmd: Command): Pick<OpenOptions, "store" | "storeSizeBytes"> {
  if (!cmd.options.some((o) => o.long === "--no-store")) return {};
  // commander makes `--no-store` into `store: false`.
  const o = cmd.opts() as { store: boolean; storeSize?: number };
  return { store: o.store ? "create" : "off", storeSizeBytes: o.storeSize };
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "64G", "512M", "1.5T", "100GiB" or bytes, as commander parses an option. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError("a size such as 64G, 512M or 1T");
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/** Asks before destructive work; without a terminal to ask on, -y is required. */
export async function confirm(s: Session, question: string): Promise<void> {
  if (s.opts.yes) return;
  if (!process.stdin.isTTY) {
    throw new BoughError(
      "NOT_CONFIRMED",
      `${question} needs confirmation`,
      "pass -y/--yes to confirm",
    );
  }
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new BoughError(
      "NOT_CONFIRMED",
      "cancelled",
      "nothing was changed; pass -y to skip the question",
    );
  }
}

/** A command's branch argument, or the current branch when it is left out. */
export async function branchOrCurrent(s: Session, name: string | undefined): Promise<string> {
  return name ?? (await currentBranch(s.ctx, { project: s.opts.project }));
}
