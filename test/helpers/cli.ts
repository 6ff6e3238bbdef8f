import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { query } from "./sql.ts";

const BIN = resolve(import.meta.dirname, "../../bin/bough.js");

/**
 * Tests make their homes on this machine's disk as root, where `bough init`/`bough up`
 * would make each one a store image (src/branches/store.ts): off unless a test asks
 * (test/store.test.ts passes BOUGH_STORE: "").
 */
const TEST_ENV = { BOUGH_STORE: "off" };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `bough` binary, as a user would. */
export function bough(
  home: string,
  args: string[],
  o: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [BIN, "--home", home, ...args],
      {
        env: { ...process.env, ...TEST_ENV, ...o.env },
        timeout: o.timeoutMs ?? 180_000,
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : err.signal ? 137 : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
    // What the command reads on stdin (a secret value); otherwise stdin is left open.
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

/** Runs bough with --json, asserts success and parses stdout. */
export async function boughJson<T>(
  home: string,
  args: string[],
  env?: Record<string, string>,
): Promise<T> {
  const r = await bough(home, ["--json", "-y", ...args], { env });
  if (r.code !== 0) {
    throw new Error(
      `bough ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  return JSON.parse(r.stdout) as T;
}

/**
 * A fresh bough home under the temp dir; remove() stops every cluster in it, removes its
 * store if it has one (unmounted, no loop device left) and deletes it.
 */
export async function tempHome(
  base = tmpdir(),
): Promise<{ home: string; remove(): Promise<void> }> {
  const home = await mkdtemp(join(base, "bough-test-"));
  return {
    home,
    async remove() {
      const r = await bough(home, ["--json", "-y", "project", "list"]);
      if (r.code === 0) {
        for (const p of JSON.parse(r.stdout) as { name: string }[]) {
          await bough(home, ["-y", "project", "delete", p.name]);
        }
      }
      if (existsSync(join(home, "store.xfs"))) await bough(home, ["-y", "store", "remove"]);
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A temp home with `bough init` done and `sql` run on main; returns main's URL too. */
export async function initialisedHome(
  sql: string,
): Promise<{ home: string; mainUrl: string; remove(): Promise<void> }> {
  const { home, remove } = await tempHome();
  await boughJson(home, ["init"]);
  const main = await boughJson<{ connectionString: string }>(home, ["branch", "show", "main"]);
  await query(main.connectionString, sql);
  return { home, mainUrl: main.connectionString, remove };
}

/** A `bough up` running in the background, with everything it printed so far. */
export interface RunningUp {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `bough up` on a home and waits (up to 60 s) until it says how to stop it. */
export async function startUp(home: string, args: string[] = []): Promise<RunningUp> {
  const proc = spawn(process.execPath, [BIN, "--home", home, "up", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...TEST_ENV },
  });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((done) => proc.on("exit", (code) => done(code)));
  for (let i = 0; i < 600 && !out.includes("Ctrl-C") && proc.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 100));
  return { proc, output: () => out, exited };
}

/** A TCP port free right now on 127.0.0.1 (for `bough up --port`). */
export const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
  });
