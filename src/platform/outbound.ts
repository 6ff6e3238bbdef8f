/** What one outgoing HTTP call (a schedule's target, a webhook delivery) came to. */
export interface CallOutcome {
  ok: boolean;
  httpStatus: number | null;
  /** The start of the response body, kept for `runs`/`deliveries` (never the whole of it). */
  response: string | null;
  error: string | null;
  durationMs: number;
}

const EXCERPT = 1000;

/**
 * One HTTP call with a wall-clock timeout; never throws (a refused connection, a timeout or
 * a non-2xx status is an outcome to record, not an error of the caller).
 */
export async function callHttp(o: {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}): Promise<CallOutcome> {
  const started = Date.now();
  const hasBody =
    o.body !== undefined && o.body !== null && o.method !== "GET" && o.method !== "HEAD";
  try {
    const res = await fetch(o.url, {
      method: o.method,
      headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...o.headers },
      body: hasBody ? JSON.stringify(o.body) : undefined,
      signal: AbortSignal.timeout(o.timeoutMs),
      redirect: "manual",
    });
    const text = await res.text().catch(() => "");
    return {
      ok: res.ok,
      httpStatus: res.status,
      response: text.slice(0, EXCERPT),
      error: res.ok ? null : `HTTP ${res.status}`,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const error =
      e.name === "TimeoutError"
        ? `timed out after ${o.timeoutMs} ms`
        : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ""}`;
    return { ok: false, httpStatus: null, response: null, error, durationMs: Date.now() - started };
  }
}

/** Refuses anything but an absolute http(s) URL; returns it normalised. */
export function checkHttpUrl(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  return u.protocol === "http:" || u.protocol === "https:" ? u.toString() : null;
}
