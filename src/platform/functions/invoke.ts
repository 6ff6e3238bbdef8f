import { type IncomingHttpHeaders, type IncomingMessage, request } from "node:http";
import type { Outcome } from "./store.ts";
import type { FunctionWorker, LineSink } from "./worker.ts";

/** One request as the function receives it. */
export interface FunctionRequest {
  method: string;
  /** `/<name>/<subpath>?<query>`, as Supabase's runtime shows it to the function. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer | undefined;
}

/** What reached the caller and how the invocation ended, for functions.invocations. */
export interface InvocationEnd {
  status: number;
  outcome: Outcome;
}

/** The function's response (streamed to the caller), or bough's own error response. */
export type InvokeResult =
  | {
      kind: "response";
      status: number;
      headers: Record<string, string | string[]>;
      body: IncomingMessage;
      end: Promise<InvocationEnd>;
    }
  | {
      kind: "failed";
      status: number;
      body: { code: string; message: string };
      end: Promise<InvocationEnd>;
    };

// Hop-by-hop headers (RFC 9110 §7.6.1) and those Node recomputes: never forwarded.
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "content-length",
  "expect",
]);

export function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

/** Supabase's status for each way an invocation can fail in bough's hands. */
function failure(outcome: Outcome): { status: number; body: { code: string; message: string } } {
  switch (outcome) {
    case "timeout":
      return {
        status: 504,
        body: {
          code: "WORKER_TIMEOUT",
          message: "Function did not respond before the wall-clock limit",
        },
      };
    case "memory":
      return {
        status: 546,
        body: {
          code: "WORKER_LIMIT",
          message:
            "Function failed due to not having enough compute resources (memory limit exceeded)",
        },
      };
    default:
      return {
        status: 500,
        body: {
          code: "WORKER_ERROR",
          message: "Function's process exited while handling the request (check logs)",
        },
      };
  }
}

/**
 * Sends one request to a warm function process under a wall-clock limit: past it, the
 * process is killed (a runaway loop holds the whole process). A process that dies mid-way
 * is classified from its exit (out of memory → 546, else 500).
 */
export async function invokeWorker(
  w: FunctionWorker,
  req: FunctionRequest,
  o: { timeoutMs: number; sink: LineSink },
): Promise<InvokeResult> {
  w.inFlight++;
  const detach = w.attach(o.sink);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void w.stop();
  }, o.timeoutMs);
  let finished = false;
  const finish = (end: InvocationEnd): InvocationEnd => {
    if (!finished) {
      finished = true;
      clearTimeout(timer);
      w.inFlight--;
      w.lastUsed = Date.now();
      detach();
    }
    return end;
  };
  const failed = async (): Promise<Outcome> => {
    if (timedOut) return "timeout";
    return (await w.exitedWithin(2_000)) === "memory" ? "memory" : "crash";
  };
  try {
    const res = await send(w, req);
    const errorOutcome = res.headers["x-bough-outcome"] === "error";
    const headers = forwardable(res.headers);
    delete headers["x-bough-outcome"];
    const status = res.statusCode ?? 500;
    const end = new Promise<InvocationEnd>((done) => {
      res.once("end", () => done(finish({ status, outcome: errorOutcome ? "error" : "ok" })));
      res.on("error", () => void failed().then((outcome) => done(finish({ status, outcome }))));
      res.once("close", () => {
        if (!res.complete) void failed().then((outcome) => done(finish({ status, outcome })));
      });
    });
    return { kind: "response", status, headers, body: res, end };
  } catch {
    const outcome = await failed();
    const f = failure(outcome);
    return { kind: "failed", ...f, end: Promise.resolve(finish({ status: f.status, outcome })) };
  }
}

function send(w: FunctionWorker, req: FunctionRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = forwardable(req.headers);
    if (req.body) headers["content-length"] = String(req.body.length);
    const r = request(
      {
        host: "127.0.0.1",
        port: w.port,
        method: req.method,
        path: req.path,
        headers,
        agent: w.agent,
      },
      resolve,
    );
    r.on("error", reject);
    r.end(req.body);
  });
}
