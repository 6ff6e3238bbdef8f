import { randomUUID } from "node:crypto";
import { BoughError } from "../../core/errors.ts";
import type { BranchDb, RequestIdentity } from "../request.ts";
import { type ChangesRequest, type ChangesSubscription, resolveSubscription } from "./catalog.ts";
import type { BranchHub, Conn, Member } from "./hub.ts";
import type { BinaryBroadcast, PhxMessage } from "./protocol.ts";

/** Most channels one socket may join (Supabase caps them per connection too). */
export const MAX_CHANNELS = 100;

export interface SocketSession {
  conn: Conn;
  hub: BranchHub;
  db: BranchDb;
  /** Who the socket's apikey is. */
  identity: RequestIdentity;
  /** The identity a join's or access_token message's token gives (the apikey for a key). */
  identify: (accessToken: string) => Promise<RequestIdentity>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};

const reasonOf = (err: unknown) => (err instanceof BoughError ? err.message : "internal error");

/**
 * One socket's side of the Phoenix protocol: heartbeats, joins (auth, private channels,
 * postgres_changes resolved for the member's role), leaves, broadcast, presence and token
 * refreshes. Every push gets its phx_reply; nothing here can throw into the socket.
 */
export class SocketHandler {
  private readonly members = new Map<string, Member>();

  constructor(private readonly s: SocketSession) {}

  private reply(m: PhxMessage, status: "ok" | "error", response: unknown): void {
    this.s.conn.send({
      joinRef: m.joinRef,
      ref: m.ref,
      topic: m.topic,
      event: "phx_reply",
      payload: { status, response },
    });
  }

  async handle(m: PhxMessage | BinaryBroadcast): Promise<void> {
    if ("kind" in m) {
      const member = this.members.get(m.topic);
      if (!member) return this.unmatched(m);
      this.s.hub.broadcastBinary(member, m.event, m.bytes);
      return;
    }
    try {
      if (m.topic === "phoenix" && m.event === "heartbeat") return this.reply(m, "ok", {});
      if (m.event === "phx_join") return await this.join(m);
      const member = this.members.get(m.topic);
      if (!member) return this.unmatched(m);
      switch (m.event) {
        case "phx_leave":
          await this.drop(member);
          return this.reply(m, "ok", {});
        case "broadcast":
          this.s.hub.broadcast(member, m.payload);
          if (member.ack) this.reply(m, "ok", {});
          return;
        case "presence":
          return this.presence(member, m);
        case "access_token":
          return await this.refresh(member, m);
        default:
          return this.reply(m, "error", { reason: `unknown event "${m.event}"` });
      }
    } catch (err) {
      this.reply(m, "error", { reason: reasonOf(err) });
    }
  }

  /** Leaves every channel (the socket closed). */
  async closeAll(): Promise<void> {
    for (const member of [...this.members.values()]) await this.drop(member);
  }

  private unmatched(m: { joinRef: string | null; ref: string | null; topic: string }): void {
    this.s.conn.send({
      joinRef: m.joinRef,
      ref: m.ref,
      topic: m.topic,
      event: "phx_reply",
      payload: { status: "error", response: { reason: "unmatched topic" } },
    });
  }

  private async drop(member: Member): Promise<void> {
    if (this.members.get(member.topic) === member) this.members.delete(member.topic);
    await this.s.hub.leave(member);
  }

  private async join(m: PhxMessage): Promise<void> {
    const previous = this.members.get(m.topic);
    // Phoenix: joining a topic again replaces the earlier join.
    if (previous) await this.drop(previous);
    if (this.members.size >= MAX_CHANNELS) {
      return this.reply(m, "error", {
        reason: `too many channels on one socket (at most ${MAX_CHANNELS})`,
      });
    }
    const payload = obj(m.payload);
    const config = obj(payload.config);
    const token = typeof payload.access_token === "string" ? payload.access_token : undefined;
    const identity = token ? await this.s.identify(token) : this.s.identity;
    const subTopic = m.topic.replace(/^realtime:/, "");
    const isPrivate = config.private === true || (await this.privateSetting(subTopic));
    if (isPrivate && identity.role === "anon") {
      return this.reply(m, "error", {
        reason: `You do not have permissions to read from this Channel topic: ${subTopic}`,
      });
    }
    const requests = Array.isArray(config.postgres_changes) ? config.postgres_changes : [];
    const subs = await this.resolveAll(requests, identity, m.topic);
    const broadcast = obj(config.broadcast);
    const presence = obj(config.presence);
    const member: Member = {
      conn: this.s.conn,
      topic: m.topic,
      joinRef: m.joinRef,
      identity,
      self: broadcast.self === true,
      ack: broadcast.ack === true,
      presenceKey:
        typeof presence.key === "string" && presence.key !== "" ? presence.key : randomUUID(),
      tracked: null,
      subs,
    };
    await this.s.hub.join(member);
    this.members.set(m.topic, member);
    this.reply(m, "ok", {
      postgres_changes: subs.map((s) => ({ ...pick(s.request), id: s.id })),
    });
    this.push(member, "presence_state", this.s.hub.presenceState(m.topic));
    if (subs.length > 0) {
      this.push(member, "system", {
        extension: "postgres_changes",
        status: "ok",
        message: "Subscribed to PostgreSQL",
        channel: subTopic,
      });
    }
  }

  private async privateSetting(topic: string): Promise<boolean> {
    const { rows } = await this.s.db.asService((c) =>
      c.query<{ private: boolean }>(
        "SELECT private FROM realtime.channel_settings WHERE topic = $1",
        [topic],
      ),
    );
    return rows[0]?.private === true;
  }

  private presence(member: Member, m: PhxMessage): void {
    const p = obj(m.payload);
    if (p.event === "track") {
      this.s.hub.track(member, obj(p.payload));
      this.reply(m, "ok", {});
      return;
    }
    if (p.event === "untrack") {
      this.s.hub.track(member, null);
      this.reply(m, "ok", {});
      return;
    }
    this.reply(m, "error", { reason: 'presence events are "track" and "untrack"' });
  }

  /**
   * A refreshed token: the member continues as its new identity (its subscriptions resolved
   * again for the new role's privileges), or is closed with a system error if it is refused.
   */
  private async refresh(member: Member, m: PhxMessage): Promise<void> {
    const token = obj(m.payload).access_token;
    try {
      if (typeof token !== "string") {
        throw new BoughError(
          "UNAUTHORIZED",
          "access_token must be a string",
          "send the user's access token",
        );
      }
      const identity = await this.s.identify(token);
      if (identity.role !== member.identity.role && member.subs.length > 0) {
        member.subs = await this.resolveAll(
          member.subs.map((sub) => sub.request),
          identity,
          member.topic,
        );
      }
      member.identity = identity;
      this.reply(m, "ok", {});
    } catch (err) {
      const channel = member.topic.replace(/^realtime:/, "");
      this.push(member, "system", {
        extension: "system",
        status: "error",
        message: reasonOf(err),
        channel,
      });
      await this.drop(member);
      this.push(member, "phx_close", {});
    }
  }

  private resolveAll(requests: unknown[], identity: RequestIdentity, topic: string) {
    return this.s.db.asService(async (c) => {
      const out: ChangesSubscription[] = [];
      for (const [i, r] of requests.entries()) {
        const request = obj(r) as unknown as ChangesRequest;
        out.push(
          await resolveSubscription(c, {
            id: subscriptionId(topic, i),
            request,
            role: identity.role,
          }),
        );
      }
      return out;
    });
  }

  private push(member: Member, event: string, payload: unknown): void {
    this.s.conn.send({ joinRef: member.joinRef, ref: null, topic: member.topic, event, payload });
  }
}

/** Ids as Supabase makes them: stable per channel and position, small integers. */
function subscriptionId(topic: string, i: number): number {
  let h = 0;
  for (const ch of `${topic}:${i}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

/** The fields realtime-js compares to match the server's reply to its bindings. */
function pick(r: ChangesRequest) {
  return {
    event: r.event,
    schema: r.schema,
    ...(r.table !== undefined ? { table: r.table } : {}),
    ...(r.filter !== undefined ? { filter: r.filter } : {}),
  };
}
