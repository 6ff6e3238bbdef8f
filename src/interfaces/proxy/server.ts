import { connect, createServer, type Server, type Socket } from "node:net";
import type { Activity } from "../../branches/activity.ts";
import type { Ctx } from "../../branches/context.ts";
import { proxyTarget, wakeBranch } from "../../branches/wake.ts";
import { getSetting, setSetting } from "../../control/settings.ts";
import { BoughError, toBoughError } from "../../core/errors.ts";
import { type ProxyTarget, parseProxyUser } from "../../core/names.ts";
import type { Branch, Project } from "../../core/types.ts";
import {
  backendScanner,
  encodeStartup,
  errorResponse,
  type FirstPacket,
  parseFirstPacket,
  readPacket,
  splitOptions,
} from "./protocol.ts";

export interface ProxyOptions {
  /** The project of user names without one (`bough up`'s). */
  project: string;
  port: number;
  /** Default 127.0.0.1: the clusters behind it listen on loopback only too. */
  host?: string;
  activity: Activity;
  /** Told of each branch a connection started (`bough up` stops those on Ctrl-C). */
  onStarted?: (project: string, branch: string) => void;
}

/** Ports tried in order when `--proxy-port` is not given (after the last one used). */
const DEFAULT_PORTS = [5432, 6543, 0];
const STARTUP_TIMEOUT_MS = 60_000;
const PORT_SETTING = "proxy:port";

/**
 * Starts the proxy on `--proxy-port`, else the last port used if it is free, else 5432
 * (Postgres' own, so plain `psql -h 127.0.0.1` finds it), else 6543 (Supabase's pooler
 * port), else any free port; the port it got is remembered for next time.
 */
export async function listenProxy(
  ctx: Ctx,
  o: Omit<ProxyOptions, "port"> & { port?: number },
): Promise<RunningProxy> {
  const last = getSetting(ctx.db, PORT_SETTING);
  const candidates =
    o.port !== undefined ? [o.port] : [...(last ? [Number(last)] : []), ...DEFAULT_PORTS];
  for (const [i, port] of candidates.entries()) {
    try {
      const proxy = await startProxy(ctx, { ...o, port });
      setSetting(ctx.db, PORT_SETTING, String(proxy.port));
      return proxy;
    } catch (err) {
      if (i === candidates.length - 1) {
        throw new BoughError(
          "ENVIRONMENT",
          `cannot serve the Postgres proxy on ${o.host ?? "127.0.0.1"}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          "pick another port with `bough up --proxy-port N`",
        );
      }
    }
  }
  throw new Error("unreachable: no proxy port candidate");
}

export interface RunningProxy {
  port: number;
  close(): Promise<void>;
}

/** SQLSTATEs of the errors the proxy answers itself (before any server is involved). */
const SQLSTATE: Record<string, string> = {
  BRANCH_NOT_FOUND: "3D000",
  PROJECT_NOT_FOUND: "3D000",
  INVALID_NAME: "3D000",
  BUSY: "57P03",
  BRANCH_BAD_STATE: "57P03",
  INVALID_INPUT: "28000",
};

/**
 * One Postgres endpoint for every branch: reads each client's startup packet, picks the
 * branch from the user name (`role.branch[.project]`) or `options=-c bough.branch=NAME`,
 * starts it if it is stopped, hands the server the packet with the plain role, then relays
 * bytes both ways. Authentication (SCRAM) is end to end between client and server; TLS and
 * GSS encryption are declined ('N'), as a server without them does. Cancel requests are
 * routed by the cancel key each server sent through here.
 */
export function startProxy(ctx: Ctx, o: ProxyOptions): Promise<RunningProxy> {
  // Cancel key (pid + secret, as on the wire, hex) → the port of the postmaster that issued it.
  const cancelKeys = new Map<string, number>();
  const sockets = new Set<Socket>();
  const waking = new Map<number, Promise<{ branch: Branch; started: boolean }>>();

  const wake = (t: { project: Project; branch: Branch }) => {
    let pending = waking.get(t.branch.id);
    if (!pending) {
      pending = wakeBranch(ctx, t).finally(() => waking.delete(t.branch.id));
      waking.set(t.branch.id, pending);
    }
    return pending;
  };

  const handle = (client: Socket) => {
    sockets.add(client);
    client.setNoDelay(true);
    client.on("error", () => {});
    client.on("close", () => sockets.delete(client));
    // As Postgres' authentication_timeout: a client that never says who it is goes away.
    client.setTimeout(STARTUP_TIMEOUT_MS, () => client.destroy());
    let buf: Buffer = Buffer.alloc(0);
    const fail = (e: { code: string; message: string; hint?: string }) => {
      client.end(errorResponse(e));
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const read = readPacket(buf);
      if (!read) return;
      buf = read.rest;
      const first: FirstPacket = parseFirstPacket(read.packet);
      if (first.kind === "ssl" || first.kind === "gssenc") {
        // No encryption here: the client goes on in plain text (sslmode=prefer) or gives up.
        client.write("N");
        if (buf.length) onData(Buffer.alloc(0));
        return;
      }
      client.off("data", onData);
      if (first.kind === "cancel") {
        forwardCancel(cancelKeys, first.key, first.packet);
        client.end();
        return;
      }
      if (first.kind === "invalid") {
        fail({ code: "08P01", message: first.reason });
        return;
      }
      client.pause();
      void route(first.version, first.params, read.rest);
    };

    const route = async (version: number, params: [string, string][], rest: Buffer) => {
      let release = () => {};
      try {
        const { target, startup } = rewriteStartup(params);
        const found = proxyTarget(ctx, {
          project: target.project ?? o.project,
          name: target.branch ?? "main",
        });
        release = o.activity.acquire(found.branch.id);
        client.on("close", release);
        await o.activity.settled(found.branch.id);
        const upstream = await connectUpstream(found, wake, (started) => {
          if (started) o.onStarted?.(found.project.name, found.branch.name);
        });
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        client.setTimeout(0);
        relay(client, upstream, encodeStartup(version, startup), rest, cancelKeys);
        sockets.add(upstream);
        upstream.on("close", () => sockets.delete(upstream));
      } catch (err) {
        release();
        const e = toBoughError(err);
        fail({ code: SQLSTATE[e.code] ?? "58000", message: e.message, hint: hintOf(e, o.project) });
      }
    };
    client.on("data", onData);
  };

  const server: Server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: o.port, host: o.host ?? "127.0.0.1", exclusive: true }, () => {
      server.off("error", reject);
      // Accept errors (EMFILE) cost that one client, never the server.
      server.on("error", () => {});
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : o.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** What to do about a refused connection, in the terms of a connection string. */
function hintOf(e: BoughError, project: string): string | undefined {
  if (e.code !== "BRANCH_NOT_FOUND" && e.code !== "PROJECT_NOT_FOUND") return e.hint;
  return `connect as ROLE.BRANCH (project ${project}) or ROLE.BRANCH.PROJECT, no suffix for main; \`bough branch list\` shows the branches, \`bough branch create NAME\` makes one`;
}

/**
 * The target of a startup packet and the packet the server gets: `user` without the
 * branch suffix, `options` without the bough settings. With `bough.branch` or
 * `bough.project` in options the user name is taken as it is (roles with dots).
 */
export function rewriteStartup(params: [string, string][]): {
  target: ProxyTarget;
  startup: [string, string][];
} {
  const get = (k: string) => params.find(([key]) => key === k)?.[1];
  const user = get("user");
  if (!user) {
    throw new BoughError(
      "INVALID_INPUT",
      "no PostgreSQL user name specified in startup packet",
      "connect as ROLE, ROLE.BRANCH or ROLE.BRANCH.PROJECT",
    );
  }
  const options = get("options");
  const { bough, rest } = splitOptions(options ?? "");
  const target: ProxyTarget =
    bough.has("branch") || bough.has("project")
      ? { role: user, branch: bough.get("branch") ?? null, project: bough.get("project") ?? null }
      : parseProxyUser(user);
  const startup: [string, string][] = [];
  for (const [k, v] of params) {
    if (k === "user") startup.push([k, target.role]);
    else if (k !== "options") startup.push([k, v]);
    else if (rest !== "") startup.push([k, rest]);
  }
  return { target, startup };
}

/** Connects to the branch's postmaster, starting it first if it is stopped; one retry if it stopped meanwhile. */
async function connectUpstream(
  t: { project: Project; branch: Branch },
  wake: (t: { project: Project; branch: Branch }) => Promise<{ branch: Branch; started: boolean }>,
  onWoken: (started: boolean) => void,
): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    const { branch, started } = await wake(t);
    onWoken(started);
    try {
      return await tcpConnect(branch.port);
    } catch (err) {
      if (attempt > 0) throw err;
    }
  }
}

function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1", noDelay: true });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

/** Sends the startup, then relays both ways, noting the server's cancel key on its way to the client. */
function relay(
  client: Socket,
  upstream: Socket,
  startup: Buffer,
  pending: Buffer,
  cancelKeys: Map<string, number>,
): void {
  const port = upstream.remotePort ?? 0;
  let key: string | null = null;
  upstream.on("error", () => {});
  const close = () => {
    if (key !== null && cancelKeys.get(key) === port) cancelKeys.delete(key);
    client.destroy();
    upstream.destroy();
  };
  client.on("close", close);
  upstream.on("close", close);
  upstream.write(startup);
  if (pending.length) upstream.write(pending);
  const scan = backendScanner();
  const untilReady = (chunk: Buffer) => {
    if (!client.write(chunk)) {
      upstream.pause();
      client.once("drain", () => upstream.resume());
    }
    const r = scan(chunk);
    if (r.key && key === null) {
      key = r.key.toString("hex");
      cancelKeys.set(key, port);
    }
    if (r.ready) {
      // From here on bytes only: the proxy is out of the way of every query.
      upstream.off("data", untilReady);
      upstream.pipe(client);
    }
  };
  upstream.on("data", untilReady);
  client.pipe(upstream);
  client.resume();
}

/** Passes a CancelRequest to the postmaster whose key it carries; unknown keys are dropped, as Postgres does. */
function forwardCancel(cancelKeys: Map<string, number>, key: Buffer, packet: Buffer): void {
  const port = cancelKeys.get(key.toString("hex"));
  if (port === undefined) return;
  const s = connect({ port, host: "127.0.0.1" }, () => s.end(packet));
  s.on("error", () => {});
}
