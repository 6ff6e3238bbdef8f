import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/** One request the receiver got. */
export interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * A real HTTP server standing for the outside world (a webhook endpoint, a cron target):
 * records every request and answers 200, or `status` when set.
 */
export async function receiver() {
  const calls: Received[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d) => {
      text += d;
    });
    req.on("end", () => {
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {}
      calls.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      res.writeHead(status, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  return {
    calls,
    url: (path = "/hook") => `http://127.0.0.1:${port}${path}`,
    setStatus(s: number) {
      status = s;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Polls until check() returns true (up to timeoutMs); throws with `what` when it never does. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}
