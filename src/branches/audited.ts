import { performance } from "node:perf_hooks";
import { audit } from "../control/audit.ts";
import { toBoughError } from "../core/errors.ts";
import type { Ctx } from "./context.ts";

/** Options naming no secret: every other key of an operation's options is recorded. */
const SECRET = /secret|password|token|key$|^key|credential/i;
const TARGET = new Set(["project", "name", "branch"]);

export interface AuditedOptions<O, R> {
  /** Not recorded at all (a read that only becomes an action with a flag, e.g. keys --rotate). */
  skip?: (o: O) => boolean;
  /** A result that is a refusal without an exception (a blocked merge): its error code. */
  outcome?: (r: R) => string | null;
  /** Project and branch acted on, when the options name them otherwise (`project create NAME`). */
  target?: (o: O) => { project: string | null; branch: string | null };
  /**
   * The arguments recorded instead of the options, chosen by the operation: big inputs
   * (function sources) and secret values left out, so these are recorded as given.
   */
  args?: (o: O) => Record<string, unknown>;
  /** Figures of the result added to the recorded arguments (what /metrics counts). */
  measure?: (r: R) => Record<string, number>;
}

/**
 * Wraps an operation so that every call, whichever interface makes it, appends one
 * audit row: the actor of the context, the action, project and branch, the other
 * options with secrets redacted, "ok" or the error code, and the duration. Validation
 * errors are recorded too, so an agent's refused attempts show in the log.
 *
 * @example export const resetBranch = audited("branch.reset", resetBranchNow);
 */
export function audited<O extends object, R>(
  action: string,
  run: (ctx: Ctx, o: O) => Promise<R>,
  opts: AuditedOptions<O, R> = {},
): (ctx: Ctx, o: O) => Promise<R> {
  return async (ctx, o) => {
    if (opts.skip?.(o)) return run(ctx, o);
    const started = performance.now();
    const record = (result: string, measured?: Record<string, number>) =>
      auditCall(ctx, {
        action,
        o: opts.target ? { ...o, ...opts.target(o) } : o,
        args: opts.args?.(o),
        measured,
        result,
        durationMs: performance.now() - started,
      });
    try {
      const r = await run(ctx, o);
      record(opts.outcome?.(r) ?? "ok", opts.measure?.(r));
      return r;
    } catch (err) {
      record(toBoughError(err).code);
      throw err;
    }
  };
}

/**
 * Appends the audit row of one call (for interface-level actions such as MCP reads):
 * `o` names the target, `args` (when given) is recorded as is, else `o` redacted.
 */
export function auditCall(
  ctx: Ctx,
  c: {
    action: string;
    o: object;
    args?: Record<string, unknown>;
    measured?: Record<string, number>;
    result: string;
    durationMs: number;
  },
): void {
  const fields = c.o as Record<string, unknown>;
  const target = (k: string) => (typeof fields[k] === "string" ? (fields[k] as string) : null);
  try {
    audit(ctx.db, {
      project: target("project"),
      branch: target("branch") ?? target("name"),
      action: c.action,
      details: { ...(c.args ?? redacted(fields)), ...c.measured },
      actor: ctx.actor ?? null,
      result: c.result,
      durationMs: c.durationMs,
    });
  } catch (err) {
    // A full disk must not turn a done operation into a failed one: say so, go on.
    ctx.progress(`audit log not written: ${(err as Error).message}`);
  }
}

function redacted(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (TARGET.has(k) || typeof v === "function" || v === undefined) continue;
    out[k] = SECRET.test(k) ? "[redacted]" : v;
  }
  return out;
}
