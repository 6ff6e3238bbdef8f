import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { describeHttpError } from "../http-status.ts";
import type { RequestIdentity } from "../request.ts";
import { SocketHandler } from "./connection.ts";
import { BranchHub, type Conn, type HubBranch } from "./hub.ts";
import { decodeBinary, decodeText, encode, FrameError, type Vsn } from "./protocol.ts";

/** A served branch as realtime needs it. */
export interface RealtimeBranch extends HubBranch {
  /** The running incarnation (branch id and port): one hub each. */
  key: string;
  /** The control-plane branch id and the port it was opened on. */
  id: number;
  port: number;
  /** Who an apikey (and, for a user, an access token) is on this branch only. */
  identify(apikey: string, accessToken?: string): Promise<RequestIdentity>;
}

export interface RealtimeOptions {
  /** Resolves `/p/<project>/b/<branch>/...` to its branch (starting it), or throws. */
  open(project: string, branch: string): Promise<RealtimeBranch>;
  /** Whether the branch still runs as it did when opened (not stopped, moved or deleted). */
  live(b: RealtimeBranch): boolean;
  /** How often stopped branches and silent sockets are looked for (ms). */
  sweepMs?: number;
  /** A socket with no frame (heartbeats included) for this long is closed (ms). */
  idleMs?: number;
  /** Largest frame accepted from a client (bytes); larger ones close the socket (1009). */
  maxFrameBytes?: number;
}

/** Most malformed frames a socket may send before it is closed (1008). */
const MAX_BAD_FRAMES = 20;
const PATH = /^\/p\/([^/]+)\/b\/([^/]+)\/realtime\/v1\/websocket\/?$/;
const VSNS = new Set<Vsn>(["1.0.0", "2.0.0"]);

interface Socket {
  ws: WebSocket;
  handler: SocketHandler;
  lastSeen: number;
}

interface Served {
  branch: RealtimeBranch;
  hub: BranchHub;
  sockets: Set<Socket>;
}

/**
 * Serves `/p/<project>/b/<branch>/realtime/v1/websocket` on an HTTP server's `upgrade`
 * event: the Phoenix-channels protocol of Supabase Realtime, with the branch's own keys,
 * tokens, database and WAL. Closes every socket and replication connection on close() and
 * when a branch stops or is deleted (swept every sweepMs).
 *
 * @example const rt = attachRealtime(app.server, { open, live }); app.addHook("preClose", () => rt.close())
 */
export function attachRealtime(server: Server, o: RealtimeOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes ?? 1024 * 1024 });
  const served = new Map<string, Served>();
  let closing = false;

  const servedOf = (branch: RealtimeBranch): Served => {
    let s = served.get(branch.key);
    if (!s) {
      const entry: Served = {
        branch,
        sockets: new Set(),
        // 1012 (service restart) either way: the branch stopped, or its WAL stream broke;
        // clients reconnect, which starts the branch or a new stream.
        hub: new BranchHub(
          branch,
          () => void shut(entry, 1012, "the branch's change stream ended"),
        ),
      };
      served.set(branch.key, entry);
      s = entry;
    }
    return s;
  };

  const shut = async (s: Served, code: number, reason: string) => {
    if (served.get(s.branch.key) === s) served.delete(s.branch.key);
    for (const sock of s.sockets) sock.ws.close(code, reason);
    await s.hub.close();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = PATH.exec(url.pathname);
    if (!match)
      return refuse(
        socket,
        404,
        "NOT_FOUND",
        "no WebSocket endpoint here (realtime is /p/<project>/b/<branch>/realtime/v1/websocket)",
      );
    const vsn = (url.searchParams.get("vsn") ?? "1.0.0") as Vsn;
    if (!VSNS.has(vsn))
      return refuse(socket, 400, "BAD_REQUEST", `unsupported vsn ${vsn} (1.0.0 or 2.0.0)`);
    const apikey = url.searchParams.get("apikey") ?? headerOf(req, "apikey") ?? "";
    socket.on("error", () => {});
    const [project, branch] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])];
    (async () => {
      const b = await o.open(project, branch);
      const identity = await b.identify(apikey);
      if (closing) throw new Error("shutting down");
      wss.handleUpgrade(req, socket, head, (ws) => connect(ws, b, { apikey, identity, vsn }));
    })().catch((err) => {
      const e = describeHttpError(err);
      refuse(socket, e.status, e.code, e.message);
    });
  };

  const connect = (
    ws: WebSocket,
    branch: RealtimeBranch,
    { apikey, identity, vsn }: { apikey: string; identity: RequestIdentity; vsn: Vsn },
  ) => {
    const s = servedOf(branch);
    const conn: Conn = {
      send: (m) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encode(m, vsn));
      },
      sendBinary: (b) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(b);
      },
      close: (code, reason) => ws.close(code, reason),
    };
    const handler = new SocketHandler({
      conn,
      hub: s.hub,
      db: branch.db,
      identity,
      identify: (token) => branch.identify(apikey, token),
    });
    const sock: Socket = { ws, handler, lastSeen: Date.now() };
    s.sockets.add(sock);
    let bad = 0;
    // One frame at a time per socket, so a join is done before the broadcast that follows it.
    let queue = Promise.resolve();
    ws.on("message", (data: RawData, isBinary: boolean) => {
      sock.lastSeen = Date.now();
      let msg: ReturnType<typeof decodeBinary>;
      try {
        const buf = Buffer.isBuffer(data)
          ? data
          : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
        msg = isBinary ? decodeBinary(buf) : decodeText(buf.toString("utf8"), vsn);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        if (++bad > MAX_BAD_FRAMES) return ws.close(1008, "too many malformed frames");
        // Queued too, so replies keep the order of the frames.
        const error = {
          joinRef: null,
          ref: null,
          topic: "phoenix",
          event: "phx_error",
          payload: { reason: err.message },
        };
        queue = queue.then(() => conn.send(error));
        return;
      }
      queue = queue.then(() => handler.handle(msg)).catch(() => {});
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      s.sockets.delete(sock);
      queue = queue.then(async () => {
        await handler.closeAll();
        if (s.sockets.size === 0 && s.hub.size === 0 && served.get(branch.key) === s) {
          served.delete(branch.key);
          await s.hub.close();
        }
      });
    });
  };

  const sweep = () => {
    const now = Date.now();
    for (const s of [...served.values()]) {
      if (!o.live(s.branch)) {
        void shut(s, 1012, "branch stopped or deleted");
        continue;
      }
      for (const sock of s.sockets) {
        if (now - sock.lastSeen > (o.idleMs ?? 60_000)) sock.ws.close(1000, "heartbeat timeout");
      }
    }
  };
  const timer = setInterval(sweep, o.sweepMs ?? 2_000);
  timer.unref();
  server.on("upgrade", onUpgrade);

  return {
    async close() {
      closing = true;
      clearInterval(timer);
      server.off("upgrade", onUpgrade);
      await Promise.all([...served.values()].map((s) => shut(s, 1001, "server shutting down")));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : status === 401 ? "Unauthorized" : "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
