import { randomUUID } from "node:crypto";
import { BoughError } from "../../core/errors.ts";
import type { BranchDb, RequestIdentity } from "../request.ts";
import type { ChangesSubscription } from "./catalog.ts";
import { type Change, type ChangeFeed, openChangeFeed } from "./feed.ts";
import { encodeBinaryBroadcast, type PhxMessage } from "./protocol.ts";
import { changeData, matchingIds, visibilitySql } from "./rows.ts";

/** What the hub needs of a socket. */
export interface Conn {
  send(m: PhxMessage): void;
  sendBinary(b: Buffer): void;
  close(code: number, reason: string): void;
}

/** One channel joined on one socket. */
export interface Member {
  conn: Conn;
  topic: string;
  joinRef: string | null;
  identity: RequestIdentity;
  /** config.broadcast: receive its own broadcasts; get a phx_reply for each. */
  self: boolean;
  ack: boolean;
  /** Presence key (config.presence.key, or a random one, as Supabase does). */
  presenceKey: string;
  /** This member's tracked presence meta (with its phx_ref), if any. */
  tracked: Record<string, unknown> | null;
  subs: ChangesSubscription[];
}

/** The branch a hub serves: its database and where its WAL is streamed from. */
export interface HubBranch {
  db: BranchDb;
  replicationUrl: string;
}

const push = (topic: string, event: string, payload: unknown): PhxMessage => ({
  joinRef: null,
  ref: null,
  topic,
  event,
  payload,
});

/**
 * The realtime state of one running branch: its channels' members, broadcast and presence
 * between them, and the change feed of its own database, open while some member listens to
 * postgres_changes. Nothing is shared between branches, so a branch's events never reach
 * another branch's subscribers.
 */
export class BranchHub {
  readonly topics = new Map<string, Set<Member>>();
  private feed: Promise<ChangeFeed> | null = null;
  private listeners = 0;
  private closed = false;

  constructor(
    private readonly branch: HubBranch,
    private readonly onFailed: (err: Error) => void,
  ) {}

  get size(): number {
    let n = 0;
    for (const s of this.topics.values()) n += s.size;
    return n;
  }

  /** Adds a member; resolves once its postgres_changes are live (the slot exists). */
  async join(m: Member): Promise<void> {
    if (m.subs.length > 0) {
      this.listeners++;
      try {
        await this.ensureFeed();
      } catch (err) {
        this.listeners--;
        await this.maybeStopFeed();
        throw new BoughError(
          "CLUSTER_FAILED",
          `cannot stream this branch's changes: ${(err as Error).message}`,
          "check the branch runs with wal_level = logical and has a free replication slot and WAL sender",
        );
      }
    }
    let set = this.topics.get(m.topic);
    if (!set) {
      set = new Set();
      this.topics.set(m.topic, set);
    }
    set.add(m);
  }

  /** Removes a member: its presence leaves, the feed stops with the last listener. */
  async leave(m: Member): Promise<void> {
    const set = this.topics.get(m.topic);
    if (!set?.delete(m)) return;
    if (set.size === 0) this.topics.delete(m.topic);
    if (m.tracked) this.presenceDiff(m.topic, {}, { [m.presenceKey]: { metas: [m.tracked] } });
    if (m.subs.length > 0) {
      this.listeners--;
      await this.maybeStopFeed();
    }
  }

  /** Sends a broadcast to the topic's members (the sender too when it asked for `self`). */
  broadcast(from: Member, payload: unknown): void {
    for (const m of this.topics.get(from.topic) ?? []) {
      if (m !== from || from.self) m.conn.send(push(m.topic, "broadcast", payload));
    }
  }

  broadcastBinary(from: Member, event: string, bytes: Uint8Array): void {
    const frame = encodeBinaryBroadcast(from.topic, event, bytes);
    for (const m of this.topics.get(from.topic) ?? []) {
      if (m !== from || from.self) m.conn.sendBinary(frame);
    }
  }

  /** The topic's presences, as presence_state shapes them: key → { metas }. */
  presenceState(topic: string): Record<string, { metas: Record<string, unknown>[] }> {
    const out: Record<string, { metas: Record<string, unknown>[] }> = {};
    for (const m of this.topics.get(topic) ?? []) {
      if (!m.tracked) continue;
      out[m.presenceKey] ??= { metas: [] };
      out[m.presenceKey].metas.push(m.tracked);
    }
    return out;
  }

  /** track (replacing the member's previous meta) or untrack (meta null). */
  track(m: Member, meta: Record<string, unknown> | null): void {
    const leaves = m.tracked ? { [m.presenceKey]: { metas: [m.tracked] } } : {};
    m.tracked = meta && { ...meta, phx_ref: randomUUID() };
    const joins = m.tracked ? { [m.presenceKey]: { metas: [m.tracked] } } : {};
    if (Object.keys(joins).length > 0 || Object.keys(leaves).length > 0) {
      this.presenceDiff(m.topic, joins, leaves);
    }
  }

  private presenceDiff(topic: string, joins: object, leaves: object): void {
    for (const m of this.topics.get(topic) ?? []) {
      m.conn.send(push(m.topic, "presence_diff", { joins, leaves }));
    }
  }

  /** Stops the feed and forgets every member (their sockets are closed by the server). */
  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
    const feed = this.feed;
    this.feed = null;
    await feed?.then((f) => f.close()).catch(() => {});
  }

  private ensureFeed(): Promise<ChangeFeed> {
    if (this.closed) return Promise.reject(new Error("realtime is closing on this branch"));
    if (!this.feed) {
      const feed = openChangeFeed({
        url: this.branch.replicationUrl,
        onCommit: (changes) => this.deliver(changes),
        onError: (err) => {
          if (this.feed === feed) this.onFailed(err);
        },
      });
      this.feed = feed;
      // A feed that failed to open is forgotten, so the next join tries again.
      feed.catch(() => {
        if (this.feed === feed) this.feed = null;
      });
    }
    return this.feed;
  }

  private async maybeStopFeed(): Promise<void> {
    if (this.listeners > 0 || !this.feed) return;
    const feed = this.feed;
    this.feed = null;
    await feed.then((f) => f.close()).catch(() => {});
  }

  /** Delivers one transaction's changes, in order, each only where filters and RLS allow. */
  private async deliver(changes: Change[]): Promise<void> {
    for (const change of changes) {
      const targets: { m: Member; ids: number[] }[] = [];
      for (const set of this.topics.values()) {
        for (const m of set) {
          const ids = matchingIds(m.subs, change);
          if (ids.length > 0) targets.push({ m, ids });
        }
      }
      // One RLS check per distinct identity (role + claims), not per member.
      const verdicts = new Map<string, Promise<boolean>>();
      for (const { m, ids } of targets) {
        const view = m.subs.find((s) => s.id === ids[0])?.tables.get(change.relationOid);
        if (!view) continue;
        if (view.checkRls && change.type !== "DELETE") {
          const who = JSON.stringify([m.identity.role, m.identity.claims]);
          let verdict = verdicts.get(who);
          if (!verdict) {
            verdict = this.visibleTo(m.identity, change, view);
            verdicts.set(who, verdict);
          }
          if (!(await verdict)) continue;
        }
        m.conn.send(push(m.topic, "postgres_changes", { ids, data: changeData(change, view) }));
      }
    }
  }

  private async visibleTo(
    identity: RequestIdentity,
    change: Change,
    view: Parameters<typeof visibilitySql>[1],
  ): Promise<boolean> {
    const q = visibilitySql(change, view);
    if (!q) return false;
    try {
      return await this.branch.db.asRequest(identity, async (c) => {
        return (await c.query(q.sql, q.params)).rowCount === 1;
      });
    } catch {
      // A row the role cannot read (a policy erroring, a dropped grant) is not delivered.
      return false;
    }
  }
}
