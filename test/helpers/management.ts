import assert from "node:assert/strict";
import { boughJson, freePort, type RunningUp, startUp, tempHome } from "./cli.ts";

export type ApiBody = Record<string, unknown> & unknown[];

export interface ManagementServer {
  home: string;
  /** The admin key `bough init` printed (named "admin"). */
  key: string;
  /** The server's URL, as `bough status` reports it. */
  base: string;
  up: RunningUp;
  /** A management request; `key: null` sends none. Returns status, headers and the JSON body. */
  api(
    method: string,
    path: string,
    o?: { body?: unknown; raw?: string; key?: string | null },
  ): Promise<{ status: number; headers: Headers; body: ApiBody }>;
  stop(): Promise<void>;
}

/** A fresh home with `bough init` done and `bough up` serving it on a free port. */
export async function managementServer(): Promise<ManagementServer> {
  const { home, remove } = await tempHome();
  const init = await boughJson<{ adminKey: { name: string; key: string } }>(home, ["init"]);
  assert.equal(init.adminKey.name, "admin");
  const key = init.adminKey.key;
  const up = await startUp(home, ["--port", String(await freePort())]);
  const st = await boughJson<{ serverUrl: string | null }>(home, ["status"]);
  assert.ok(st.serverUrl, up.output());
  const base = st.serverUrl;
  return {
    home,
    key,
    base,
    up,
    async api(method, path, o = {}) {
      const headers: Record<string, string> = {};
      const k = o.key === undefined ? key : o.key;
      if (k !== null) headers.authorization = `Bearer ${k}`;
      const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      if (payload !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${base}${path}`, { method, headers, body: payload });
      return { status: res.status, headers: res.headers, body: (await res.json()) as never };
    },
    async stop() {
      if (up.proc.exitCode === null) {
        up.proc.kill("SIGINT");
        await up.exited;
      }
      await remove();
    },
  };
}
