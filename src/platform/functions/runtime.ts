import { createHash } from "node:crypto";
import type { DenoHost } from "./deno.ts";
import type { FunctionRow } from "./store.ts";
import { FunctionWorker, type LineSink } from "./worker.ts";

/** Limits of every function process (Supabase's hosted defaults: 256 MB, 150 s). */
export interface FunctionLimits {
  /** Wall clock a request may take before its process is killed (ms). */
  timeoutMs?: number;
  /** V8 old-space cap of each process (MB). */
  memoryMb?: number;
  /** A process serving no request this long is stopped (ms). */
  idleMs?: number;
  /** Largest request body a function accepts (bytes); past it, 413. */
  maxBodyBytes?: number;
}

export const DEFAULT_LIMITS: Required<FunctionLimits> = {
  timeoutMs: 150_000,
  memoryMb: 256,
  idleMs: 60_000,
  maxBodyBytes: 20 << 20,
};

interface Slot {
  /** Code version and env digest the process was started with. */
  fingerprint: string;
  worker: Promise<FunctionWorker>;
}

/**
 * The warm Deno processes of every function of every branch, keyed by branch id and name:
 * reused while the code and env are unchanged, replaced when they change (redeploy, reset,
 * merge), stopped when idle, when their branch is gone, and on close.
 */
export class FunctionRuntime {
  readonly limits: Required<FunctionLimits>;
  private readonly slots = new Map<string, Slot>();
  private readonly timer: NodeJS.Timeout;
  private host: Promise<DenoHost> | null = null;

  constructor(
    private readonly hostOf: () => Promise<DenoHost>,
    limits: FunctionLimits = {},
    /** Whether a branch id is still served (not stopped or deleted); checked on each sweep. */
    private readonly served: (branchId: number) => boolean = () => true,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.timer = setInterval(() => void this.sweep(), Math.min(this.limits.idleMs, 5_000));
    this.timer.unref();
  }

  /** A running process for this version of the function, started if needed (boot output to sink). */
  async acquire(
    branchId: number,
    fn: FunctionRow,
    env: Record<string, string>,
    sink: LineSink,
  ): Promise<FunctionWorker> {
    const key = `${branchId}/${fn.name}`;
    const fingerprint = createHash("sha256")
      .update(fn.version)
      .update(JSON.stringify(Object.entries(env).sort()))
      .digest("hex");
    const slot = this.slots.get(key);
    if (slot && slot.fingerprint === fingerprint) {
      const w = await slot.worker.catch(() => null);
      if (w?.alive) return w;
    }
    if (slot && this.slots.get(key) === slot) {
      this.slots.delete(key);
      void slot.worker.then((w) => w.stop()).catch(() => {});
    }
    const current = this.slots.get(key);
    if (current && current.fingerprint === fingerprint) return current.worker;
    this.host ??= this.hostOf();
    const host = await this.host;
    const worker = FunctionWorker.start({
      host,
      files: fn.files,
      entrypoint: fn.entrypoint,
      env,
      memoryMb: this.limits.memoryMb,
      bootTimeoutMs: Math.min(this.limits.timeoutMs, 60_000),
      sink,
    });
    const next = { fingerprint, worker };
    this.slots.set(key, next);
    // A process that failed to boot is forgotten, so the next request tries again.
    worker.catch(() => {
      if (this.slots.get(key) === next) this.slots.delete(key);
    });
    return worker;
  }

  /** Stops the processes of a branch (one function, or all of them). */
  async stop(branchId: number, name?: string): Promise<void> {
    const prefix = name === undefined ? `${branchId}/` : `${branchId}/${name}`;
    const doomed = [...this.slots].filter(([k]) =>
      name === undefined ? k.startsWith(prefix) : k === prefix,
    );
    for (const [k] of doomed) this.slots.delete(k);
    await Promise.all(doomed.map(([, s]) => s.worker.then((w) => w.stop()).catch(() => {})));
  }

  /** Stops idle processes and those of branches no longer served. */
  async sweep(): Promise<void> {
    const now = Date.now();
    for (const [key, slot] of [...this.slots]) {
      const w = await slot.worker.catch(() => null);
      if (!w) continue;
      const branchId = Number(key.split("/")[0]);
      const idle = w.inFlight === 0 && now - w.lastUsed > this.limits.idleMs;
      if (idle || !w.alive || !this.served(branchId)) {
        if (this.slots.get(key) === slot) this.slots.delete(key);
        await w.stop();
      }
    }
  }

  /** Stops every process (the server is closing). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(all.map((s) => s.worker.then((w) => w.stop()).catch(() => {})));
  }
}
