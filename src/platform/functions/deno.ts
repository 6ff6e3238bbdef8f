import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { RunAs } from "../../clusters/os-user.ts";
import { run } from "../../clusters/run.ts";
import { BoughError } from "../../core/errors.ts";

/** Where function processes run: the Deno binary, bough's own module cache, and per-process dirs. */
export interface DenoHost {
  binary: string;
  /** `<home>/functions`: root:bough 0750 as root, so the unprivileged user traverses it. */
  root: string;
  /** DENO_DIR (remote modules, transpiled code), owned by the user functions run as. */
  cacheDir: string;
  runAs: RunAs | null;
}

/** The Deno binary the `deno` npm package installs beside its package.json. */
export function denoBinary(): string {
  const pkg = createRequire(import.meta.url).resolve("deno/package.json");
  const bin = join(dirname(pkg), process.platform === "win32" ? "deno.exe" : "deno");
  if (!existsSync(bin)) {
    throw new BoughError(
      "ENVIRONMENT",
      `the Deno binary is missing at ${bin}`,
      "reinstall bough's dependencies (npm install runs the deno package's postinstall)",
    );
  }
  return bin;
}

/** Prepares `<home>/functions` and its cache dir (idempotent). */
export async function denoHost(home: string, runAs: RunAs | null): Promise<DenoHost> {
  const root = join(home, "functions");
  const cacheDir = join(root, "deno-cache");
  await mkdir(cacheDir, { recursive: true });
  if (runAs) await chown(root, 0, runAs.gid);
  await chmod(root, runAs ? 0o750 : 0o700);
  if (runAs) await chown(cacheDir, runAs.uid, runAs.gid);
  await chmod(cacheDir, 0o700);
  return { binary: denoBinary(), root, cacheDir, runAs };
}

/** The environment of every Deno process bough starts: nothing of bough's own. */
export function denoEnv(host: DenoHost, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DENO_DIR: host.cacheDir,
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    RUST_BACKTRACE: "0",
    ...extra,
  };
}

/**
 * Writes files into a fresh directory under the host root; the caller removes it. As
 * root, the directories stay root's (0711: entered, not listed or changed) and each file
 * is the functions' user's, 0400: the group `bough` is every branch postmaster's group
 * too, and a branch must not read another branch's code.
 */
export async function writeFunctionDir(
  host: DenoHost,
  files: Record<string, string>,
): Promise<string> {
  const dirMode = host.runAs ? 0o711 : 0o700;
  const dir = join(host.root, `run-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { mode: dirMode });
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true, mode: dirMode });
    await writeFile(file, text, { mode: 0o400 });
    if (host.runAs) await chown(file, host.runAs.uid, host.runAs.gid);
  }
  return dir;
}

/**
 * Refuses code Deno cannot load: parses the entrypoint and every module it imports
 * (`deno info`, which reports syntax errors and missing local files without running or
 * type-checking anything, as `deno run` does not type-check either).
 */
export async function checkSource(
  host: DenoHost,
  files: Record<string, string>,
  entrypoint: string,
): Promise<void> {
  const dir = await writeFunctionDir(host, files);
  try {
    await run({
      cmd: host.binary,
      args: ["info", "--no-config", "--no-lock", join(dir, entrypoint)],
      env: denoEnv(host),
      runAs: host.runAs,
      timeoutMs: 60_000,
      what: "deno info",
      code: "INVALID_INPUT",
      hint: "",
    });
  } catch (err) {
    const e = err as BoughError;
    const stderr = String((e.details as { stderr?: string } | undefined)?.stderr ?? e.message);
    const message = stderr
      .split(/\nStack backtrace:/)[0]
      .replaceAll(`file://${dir}/`, "")
      .replaceAll(`${dir}/`, "")
      .trim();
    throw new BoughError(
      "INVALID_INPUT",
      `the function does not compile: ${message.replace(/^error: /, "")}`,
      "fix the code and deploy again (nothing was stored)",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
