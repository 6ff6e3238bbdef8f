/**
 * Phoenix channels framing as realtime-js speaks it. vsn 1.0.0: JSON objects. vsn 2.0.0
 * (realtime-js' default): JSON arrays `[join_ref, ref, topic, event, payload]`, plus binary
 * frames for user broadcasts (client → server kind 3 "user broadcast push", server → client
 * kind 4 "user broadcast"). Pure: no I/O.
 */

export type Vsn = "1.0.0" | "2.0.0";

export interface PhxMessage {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
}

/** A user broadcast whose payload is raw bytes (binary encoding) rather than JSON. */
export interface BinaryBroadcast {
  kind: "binary-broadcast";
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  bytes: Uint8Array;
}

const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;
const ENCODING_BINARY = 0;
const ENCODING_JSON = 1;

export class FrameError extends Error {}

const stringOrNull = (v: unknown): string | null =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : null;

function message(joinRef: unknown, ref: unknown, topic: unknown, event: unknown, payload: unknown) {
  if (typeof topic !== "string" || typeof event !== "string") {
    throw new FrameError("a message needs a string topic and event");
  }
  return { joinRef: stringOrNull(joinRef), ref: stringOrNull(ref), topic, event, payload };
}

/** Decodes one text frame; throws FrameError on anything that is not a Phoenix message. */
export function decodeText(text: string, vsn: Vsn): PhxMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FrameError("frame is not valid JSON");
  }
  if (vsn === "2.0.0") {
    if (!Array.isArray(raw) || raw.length !== 5) {
      throw new FrameError("vsn 2.0.0 messages are [join_ref, ref, topic, event, payload]");
    }
    return message(raw[0], raw[1], raw[2], raw[3], raw[4]);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new FrameError("vsn 1.0.0 messages are {topic, event, payload, ref}");
  }
  const o = raw as Record<string, unknown>;
  return message(o.join_ref, o.ref, o.topic, o.event, o.payload);
}

/**
 * Decodes a binary frame (vsn 2.0.0 user broadcast push): header lengths, then join_ref,
 * ref, topic, user event, metadata (JSON or empty), then the payload bytes.
 */
export function decodeBinary(buf: Uint8Array): PhxMessage | BinaryBroadcast {
  if (buf.length < 7 || buf[0] !== KIND_USER_BROADCAST_PUSH) {
    throw new FrameError("the only binary frame accepted is a user broadcast push (kind 3)");
  }
  const [joinRefLen, refLen, topicLen, eventLen, metaLen, encoding] = buf.subarray(1, 7);
  let at = 7;
  const take = (n: number) => {
    if (at + n > buf.length) throw new FrameError("binary frame shorter than its header says");
    const out = buf.subarray(at, at + n);
    at += n;
    return new TextDecoder().decode(out);
  };
  const joinRef = take(joinRefLen);
  const ref = take(refLen);
  const topic = take(topicLen);
  const event = take(eventLen);
  const meta = take(metaLen);
  const bytes = buf.subarray(at);
  if (encoding === ENCODING_BINARY) {
    return {
      kind: "binary-broadcast",
      joinRef: joinRef || null,
      ref: ref || null,
      topic,
      event,
      bytes,
    };
  }
  if (encoding !== ENCODING_JSON) throw new FrameError(`unknown payload encoding ${encoding}`);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(bytes));
    if (meta) JSON.parse(meta);
  } catch {
    throw new FrameError("binary broadcast payload is not valid JSON");
  }
  return {
    joinRef: joinRef || null,
    ref: ref || null,
    topic,
    event: "broadcast",
    payload: { type: "broadcast", event, payload },
  };
}

/** Encodes a message as the client's vsn expects it. */
export function encode(m: PhxMessage, vsn: Vsn): string {
  if (vsn === "2.0.0") return JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]);
  return JSON.stringify({
    join_ref: m.joinRef,
    ref: m.ref,
    topic: m.topic,
    event: m.event,
    payload: m.payload,
  });
}

/** A server → client binary user broadcast (kind 4): topic, user event, no metadata, bytes. */
export function encodeBinaryBroadcast(topic: string, event: string, bytes: Uint8Array): Buffer {
  const t = Buffer.from(topic);
  const e = Buffer.from(event);
  if (t.length > 255 || e.length > 255)
    throw new FrameError("topic or event longer than 255 bytes");
  const header = Buffer.from([KIND_USER_BROADCAST, t.length, e.length, 0, ENCODING_BINARY]);
  return Buffer.concat([header, t, e, bytes]);
}
