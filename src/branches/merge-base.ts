import { introspect } from "../merge/introspect/index.ts";
import { withClient } from "./sql.ts";

/** Snapshot JSON of a running branch: stored as its T0 / merge base. */
export function captureBase(url: string): Promise<string> {
  return withClient(url, async (client) => JSON.stringify(await introspect(client)));
}
