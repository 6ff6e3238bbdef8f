import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { Agent } from "node:http";
import { join } from "node:path";
import { bootModule, mainModule } from "./boot.ts";
import { type DenoHost, denoEnv, writeFunctionDir } from "./deno.ts";

/** Receives a function process's output lines while an invocation is in flight. */
export interface LineSink {
  stdout: string[];
  stderr: string[];
}

/** Why a process ended: V8 ran out of its heap cap, or anything else. */
export type ExitKind = "memory" | "crash";

export interface WorkerOptions {
  host: DenoHost;
  files: Record<string, string>;
  entrypoint: string;
  /** The process' whole environment; `--allow-env` names exactly these keys. */
  env: Record<string, string>;
  memoryMb: number;
  bootTimeoutMs: number;
  /** Gets the output printed while the module loads. */
  sink: LineSink;
}

/** The process never listened: its module threw, never served, or took too long. */
export class BootError extends Error {
  constructor(
    message: string,
    readonly kind: ExitKind,
  ) {
    super(message);
  }
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OOM = /out of memory|heap limit|allocation failed/i;

/**
 * One function of one branch in its own Deno process: network only (no file system,
 * subprocess, FFI or other env than given), a V8 heap cap, run as the unprivileged user
 * when bough is root. The code is written to a private dir Deno loads modules from (module
 * loading needs no read permission); the boot module makes `Deno.serve` listen on loopback.
 */
export class FunctionWorker {
  readonly agent = new Agent({ keepAlive: true });
  lastUsed = Date.now();
  inFlight = 0;
  private sinks = new Set<LineSink>();
  private stderrTail = "";
  private exitKind: ExitKind | null = null;
  private readonly exit: Promise<ExitKind>;

  private constructor(
    private readonly proc: ChildProcess,
    dir: string,
    public port = 0,
  ) {
    this.exit = new Promise((done) =>
      // "close", not "exit": the last stderr lines (V8's out-of-memory report) are read by then.
      proc.once("close", () => {
        this.exitKind = OOM.test(this.stderrTail) ? "memory" : "crash";
        this.agent.destroy();
        void rm(dir, { recursive: true, force: true });
        done(this.exitKind);
      }),
    );
  }

  static async start(o: WorkerOptions): Promise<FunctionWorker> {
    for (const k of Object.keys(o.env)) {
      if (!ENV_KEY.test(k))
        throw new BootError(`invalid environment variable name ${JSON.stringify(k)}`, "crash");
    }
    const nonce = `__bough_ready_${randomBytes(12).toString("hex")}`;
    const dir = await writeFunctionDir(o.host, {
      ...o.files,
      "__bough_boot.js": bootModule(nonce),
      "__bough_main.js": mainModule(o.entrypoint),
    });
    const keys = Object.keys(o.env);
    const args = [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      "--allow-net",
      ...(keys.length ? [`--allow-env=${keys.join(",")}`] : []),
      `--v8-flags=--max-old-space-size=${o.memoryMb}`,
      join(dir, "__bough_main.js"),
    ];
    const ids = o.host.runAs ? { uid: o.host.runAs.uid, gid: o.host.runAs.gid } : {};
    const proc = spawn(o.host.binary, args, {
      ...ids,
      env: denoEnv(o.host, o.env),
      cwd: "/",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const w = new FunctionWorker(proc, dir);
    w.sinks.add(o.sink);
    const ready = new Promise<number>((resolve) => {
      w.readLines(proc.stdout, "stdout", () => false);
      w.readLines(proc.stderr, "stderr", (line) => {
        if (!line.startsWith(`${nonce} `)) return false;
        resolve(Number(line.slice(nonce.length + 1)));
        return true;
      });
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), o.bootTimeoutMs);
    const port = await Promise.race([ready, w.exit.then(() => 0)]);
    clearTimeout(timer);
    w.sinks.delete(o.sink);
    if (!port) {
      const kind = await w.exit;
      throw new BootError(w.lastStderr || "the function's process exited before listening", kind);
    }
    w.port = port;
    return w;
  }

  /** Copies output lines to every attached sink until the returned function detaches it. */
  attach(sink: LineSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  get alive(): boolean {
    return this.exitKind === null;
  }

  /** How the process ended, once it has (waits at most ms). */
  async exitedWithin(ms: number): Promise<ExitKind | null> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exit,
      new Promise<null>((done) => {
        timer = setTimeout(() => done(null), ms);
      }),
    ]);
    clearTimeout(timer);
    return r;
  }

  /** Kills the process and waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.alive) this.proc.kill("SIGKILL");
    await this.exit;
  }

  /** Text the process printed to stderr last (boot failures). */
  get lastStderr(): string {
    return this.stderrTail.trim();
  }

  private readLines(
    stream: NodeJS.ReadableStream | null,
    which: "stdout" | "stderr",
    control: (line: string) => boolean,
  ): void {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) this.line(which, line, control);
    });
    stream?.on("end", () => {
      if (partial) this.line(which, partial, control);
    });
  }

  private line(which: "stdout" | "stderr", line: string, control: (line: string) => boolean): void {
    if (control(line)) return;
    if (which === "stderr") this.stderrTail = `${this.stderrTail}\n${line}`.slice(-8192);
    for (const s of this.sinks) s[which].push(line);
  }
}
