import { randomBytes } from "node:crypto";
import type pg from "pg";
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from "pg-logical-replication";
import { PUBLICATION } from "./schema.ts";

/** A row as Postgres prints it: column → text form, null for NULL. */
export type TextRow = Record<string, string | null>;

/** One committed row change of a table in the supabase_realtime publication. */
export interface Change {
  type: "INSERT" | "UPDATE" | "DELETE";
  relationOid: number;
  schema: string;
  table: string;
  /** INSERT/UPDATE: the new row. */
  record: TextRow | null;
  /** The old row (replica identity full), its key (key changed, or DELETE), or null. */
  old: TextRow | null;
  /** The replica identity (primary key) columns. */
  keyColumns: string[];
  commitTimestamp: string;
}

export interface ChangeFeed {
  close(): Promise<void>;
}

const identity = (text: unknown) => text;

/**
 * pgoutput over a TEMPORARY logical slot created on the replication connection itself
 * (`CREATE_REPLICATION_SLOT ... TEMPORARY`, then START_REPLICATION): Postgres drops it when
 * that connection ends, however it ends, so no slot outlives the feed or reaches a clone.
 * Column values stay in Postgres' text form (what walrus sends; pg-types would turn
 * timestamps into Dates and lose microseconds).
 */
class TemporarySlotPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const m = super.parse(buffer);
    // The relation object is the parser's cache entry, used to decode this table's rows.
    if (m.tag === "relation") for (const c of m.columns) c.parser = identity;
    return m;
  }
  override async start(client: pg.Client, slot: string, lsn: string): Promise<unknown> {
    await client.query(
      `CREATE_REPLICATION_SLOT "${slot}" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`,
    );
    return super.start(client, slot, lsn);
  }
}

/**
 * Streams a branch's committed changes, one transaction at a time: `onCommit` is awaited
 * before the next message is read (flow control), so a slow delivery holds the stream
 * instead of growing memory. Resolves once the slot exists: every commit after that is
 * delivered. `onError` is told once if the stream fails (the branch stopped).
 */
export async function openChangeFeed(o: {
  url: string;
  onCommit: (changes: Change[]) => Promise<void>;
  onError: (err: Error) => void;
}): Promise<ChangeFeed> {
  const service = new LogicalReplicationService(
    { connectionString: o.url },
    { acknowledge: { auto: true, timeoutSeconds: 10 }, flowControl: { enabled: true } },
  );
  const slot = `bough_realtime_${process.pid}_${randomBytes(4).toString("hex")}`;
  let pending: Change[] = [];
  let closed = false;
  let failed = false;
  const fail = (err: Error) => {
    if (closed || failed) return;
    failed = true;
    o.onError(err);
  };
  service.on("data", async (_lsn: string, m: Pgoutput.Message) => {
    switch (m.tag) {
      case "begin":
        pending = [];
        return;
      case "insert":
        pending.push(change("INSERT", m.relation, m.new, null));
        return;
      case "update":
        pending.push(change("UPDATE", m.relation, m.new, m.old ?? m.key));
        return;
      case "delete":
        pending.push(change("DELETE", m.relation, null, m.old ?? m.key));
        return;
      case "commit": {
        const at = new Date(Number((m.commitTime as bigint) / 1000n)).toISOString();
        const batch = pending.map((c) => ({ ...c, commitTimestamp: at }));
        pending = [];
        if (batch.length > 0) await o.onCommit(batch).catch(fail);
        return;
      }
    }
  });
  // Answer keepalives that ask for it: a stopping Postgres keeps its walsender (and so its
  // shutdown) until the client confirms exactly the LSN sent; acknowledge() adds one to
  // what it is given, hence the one taken off.
  service.on("heartbeat", (lsn: string, _at: number, shouldRespond: boolean) => {
    if (shouldRespond) void service.acknowledge(lsnMinusOne(lsn)).catch(() => {});
  });
  service.on("error", (err: Error) => fail(err));
  const started = new Promise<void>((resolve) => service.once("start", () => resolve()));
  const plugin = new TemporarySlotPlugin({ protoVersion: 1, publicationNames: [PUBLICATION] });
  const running = service.subscribe(plugin, slot);
  // Ends when the stream ends: an end we did not ask for is a failure.
  running.then(
    () => fail(new Error("the replication stream ended")),
    (err: Error) => fail(err),
  );
  await Promise.race([
    started,
    running.then(() => Promise.reject(new Error("replication did not start"))),
  ]);
  return {
    async close() {
      closed = true;
      await service.destroy().catch(() => {});
    },
  };
}

function change(
  type: Change["type"],
  relation: Pgoutput.MessageRelation,
  record: Record<string, unknown> | null,
  old: Record<string, unknown> | null,
): Change {
  return {
    type,
    relationOid: relation.relationOid,
    schema: relation.schema,
    table: relation.name,
    record: record && textRow(record),
    old: old && textRow(old),
    keyColumns: relation.keyColumns,
    commitTimestamp: "",
  };
}

/** Drops the `undefined` a key-only tuple leaves for non-key columns. */
function textRow(r: Record<string, unknown>): TextRow {
  const out: TextRow = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    out[k] = v === null ? null : String(v);
  }
  return out;
}

/** "X/Y" minus one byte (an LSN is a 64-bit position written as two 32-bit hex halves). */
export function lsnMinusOne(lsn: string): string {
  const [hi, lo] = lsn.split("/").map((h) => BigInt(`0x${h}`));
  const v = ((hi << 32n) | lo) - 1n;
  if (v < 0n) return lsn;
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
}
