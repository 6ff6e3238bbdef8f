import { execFile } from "node:child_process";
import { BoughError, type ErrorCode } from "../core/errors.ts";
import type { RunAs } from "./os-user.ts";

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cmd: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Run as this user (root only): Postgres refuses to run as root. */
  runAs?: RunAs | null;
  cwd?: string;
  timeoutMs?: number;
  /** What the command does, for the error message ("initdb of /x"). */
  what: string;
  code: ErrorCode;
  hint: string;
}

/**
 * Runs a program with an argv array (never a shell) and resolves with its output;
 * on failure throws BoughError(code) carrying the program's stderr.
 */
export function run(o: RunOptions): Promise<RunResult> {
  const ids = o.runAs ? { uid: o.runAs.uid, gid: o.runAs.gid } : {};
  return new Promise((resolve, reject) => {
    execFile(
      o.cmd,
      [...o.args],
      {
        ...ids,
        env: o.env ?? process.env,
        // "/" is always traversable: the unprivileged user may not reach the caller's cwd.
        cwd: o.cwd ?? "/",
        timeout: o.timeoutMs ?? 120_000,
        maxBuffer: 32 << 20,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const status = err.killed
          ? `killed after ${o.timeoutMs ?? 120_000} ms`
          : typeof err.code === "number"
            ? `exit ${err.code}`
            : err.signal
              ? `signal ${err.signal}`
              : String(err.code ?? err.message);
        const output = tail(`${stderr}\n${stdout}`.trim(), 30);
        reject(
          new BoughError(
            o.code,
            `${o.what} failed (${status})${output ? `:\n${output}` : ""}`,
            o.hint,
            { cmd: o.cmd, args: o.args, stdout, stderr },
          ),
        );
      },
    );
  });
}

/** Last `n` lines of a text. */
export function tail(text: string, n: number): string {
  const lines = text.split("\n");
  return lines.slice(Math.max(0, lines.length - n)).join("\n");
}
