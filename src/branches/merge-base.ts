import { readFingerprint } from "../merge/fingerprint/index.ts";
import { introspect } from "../merge/introspect/index.ts";
import { sideConnections, withClient } from "./sql.ts";

/** Snapshot JSON and catalog fingerprint JSON (null before PG 15) of a running branch: stored as its T0 / merge base. */
export function captureBase(url: string): Promise<{ base: string; fingerprint: string | null }> {
  return withClient(url, async (client) => {
    const base = JSON.stringify(await introspect(client, sideConnections(url)));
    const fingerprint = await readFingerprint(client, sideConnections(url));
    return { base, fingerprint: fingerprint ? JSON.stringify(fingerprint) : null };
  });
}
