/**
 * The few Postgres wire-protocol messages the proxy reads or writes itself, by hand:
 * the startup packet (length, code, NUL-terminated key/value pairs), the SSL/GSSENC
 * and cancel requests, and ErrorResponse. pg-protocol parses only backend messages, and
 * everything after the startup is relayed as bytes, so a parser library buys nothing here.
 */

/** Startup packets are refused past Postgres' own limit (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_LENGTH = 10_000;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export type FirstPacket =
  | { kind: "ssl" }
  | { kind: "gssenc" }
  /** The cancel key as it is on the wire (pid + secret; secrets are variable in protocol 3.2). */
  | { kind: "cancel"; key: Buffer; packet: Buffer }
  | { kind: "startup"; version: number; params: [string, string][] }
  | { kind: "invalid"; reason: string };

/**
 * The first complete length-prefixed packet of buf, or null while more bytes are needed.
 * `rest` is what the client sent after it (kept for the server, never dropped).
 */
export function readPacket(buf: Buffer): { packet: Buffer; rest: Buffer } | null {
  if (buf.length < 4) return null;
  const length = buf.readInt32BE(0);
  if (length < 8 || length > MAX_STARTUP_LENGTH) {
    return { packet: buf.subarray(0, 4), rest: Buffer.alloc(0) };
  }
  if (buf.length < length) return null;
  return { packet: buf.subarray(0, length), rest: buf.subarray(length) };
}

export function parseFirstPacket(packet: Buffer): FirstPacket {
  if (packet.length < 8) return { kind: "invalid", reason: "invalid length of startup packet" };
  const code = packet.readInt32BE(4);
  if (code === SSL_REQUEST) return { kind: "ssl" };
  if (code === GSSENC_REQUEST) return { kind: "gssenc" };
  if (code === CANCEL_REQUEST) return { kind: "cancel", key: packet.subarray(8), packet };
  if (code >> 16 !== 3) {
    return {
      kind: "invalid",
      reason: `unsupported frontend protocol ${code >> 16}.${code & 0xffff}`,
    };
  }
  const params: [string, string][] = [];
  const fields = packet.subarray(8).toString("utf8").split("\0");
  for (let i = 0; i + 1 < fields.length && fields[i] !== ""; i += 2) {
    params.push([fields[i], fields[i + 1]]);
  }
  return { kind: "startup", version: code, params };
}

export function encodeStartup(version: number, params: [string, string][]): Buffer {
  const body = Buffer.from(`${params.map(([k, v]) => `${k}\0${v}\0`).join("")}\0`, "utf8");
  const out = Buffer.alloc(8 + body.length);
  out.writeInt32BE(out.length, 0);
  out.writeInt32BE(version, 4);
  body.copy(out, 8);
  return out;
}

/**
 * Splits the `options` startup parameter as the postmaster does (whitespace separates,
 * a backslash escapes the next character), takes out the proxy's own `-c bough.X=V` /
 * `--bough.X=V` settings and gives back the rest, re-escaped, for the server.
 */
export function splitOptions(options: string): { bough: Map<string, string>; rest: string } {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const ch = options[i];
    if (ch === "\\" && i + 1 < options.length) {
      word += options[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);

  const bough = new Map<string, string>();
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const setting =
      w === "-c" && i + 1 < words.length
        ? words[i + 1]
        : w.startsWith("-c")
          ? w.slice(2)
          : w.startsWith("--")
            ? w.slice(2)
            : null;
    const m = setting === null ? null : /^bough\.([a-z_]+)=(.*)$/s.exec(setting);
    if (m) {
      bough.set(m[1], m[2]);
      if (w === "-c") i++;
      continue;
    }
    kept.push(w);
  }
  const rest = kept.map((w) => w.replace(/[\s\\]/g, (c) => `\\${c}`)).join(" ");
  return { bough, rest };
}

/** An ErrorResponse ('E'): severity, SQLSTATE, message and an optional hint. */
export function errorResponse(o: {
  severity?: "FATAL" | "ERROR";
  code: string;
  message: string;
  hint?: string;
}): Buffer {
  const severity = o.severity ?? "FATAL";
  const fields: [string, string][] = [
    ["S", severity],
    ["V", severity],
    ["C", o.code],
    ["M", o.message],
  ];
  if (o.hint) fields.push(["H", o.hint]);
  const body = Buffer.from(`${fields.map(([k, v]) => `${k}${v}\0`).join("")}\0`, "utf8");
  const out = Buffer.alloc(5 + body.length);
  out.write("E", 0, "latin1");
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/**
 * Follows the server's messages until its first ReadyForQuery, collecting the
 * BackendKeyData ('K': pid and secret, the cancel key). After that the proxy stops
 * looking and relays bytes only.
 */
export function backendScanner(): (chunk: Buffer) => { key: Buffer | null; ready: boolean } {
  let pending: Buffer = Buffer.alloc(0);
  let key: Buffer | null = null;
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5) {
      const type = pending[0];
      const length = pending.readInt32BE(1);
      if (pending.length < 1 + length) break;
      if (type === 0x4b /* K */) key = Buffer.from(pending.subarray(5, 1 + length));
      pending = pending.subarray(1 + length);
      if (type === 0x5a /* Z */) return { key, ready: true };
    }
    return { key, ready: false };
  };
}
