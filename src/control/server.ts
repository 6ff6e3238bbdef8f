import { type Holder, holderAlive, isSelf, selfHolder } from "./holder.ts";
import { deleteSetting, getSetting, setSetting } from "./settings.ts";
import type { Db } from "./store.ts";

// The `bough up` serving this home: its URL and the process (holder.ts) that serves it.
const SERVER_SETTING = "server:running";

interface ServerRecord {
  url: string;
  holder: Holder;
  /** The Postgres proxy's port and the project it defaults to (absent: records before the proxy). */
  proxy?: ProxyRecord;
}

export interface ProxyRecord {
  port: number;
  project: string;
}

/** Recorded by `bough up` once it listens, so `bough status` can say where the API is. */
export function recordServer(db: Db, url: string, proxy?: ProxyRecord): void {
  setSetting(db, SERVER_SETTING, JSON.stringify({ url, holder: selfHolder(), proxy }));
}

/** Cleared by `bough up` on exit (only its own record: a newer server may have replaced it). */
export function clearServer(db: Db): void {
  const r = readRecord(db);
  if (r && isSelf(r.holder)) deleteSetting(db, SERVER_SETTING);
}

/** The running server's URL, or null; a record left by a server that died is ignored. */
export function runningServerUrl(db: Db): string | null {
  const r = readRecord(db);
  return r && holderAlive(r.holder) ? r.url : null;
}

/** The running server's Postgres proxy, or null (connection strings are direct then). */
export function runningProxy(db: Db): ProxyRecord | null {
  const r = readRecord(db);
  return r?.proxy && holderAlive(r.holder) ? r.proxy : null;
}

function readRecord(db: Db): ServerRecord | null {
  const text = getSetting(db, SERVER_SETTING);
  return text === null ? null : (JSON.parse(text) as ServerRecord);
}
