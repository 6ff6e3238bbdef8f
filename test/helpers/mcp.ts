import type { Client } from "@modelcontextprotocol/sdk/client/index.js";

export interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
}

/** Calls an MCP tool; returns whether it failed and its JSON payload. */
export async function call(
  c: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ isError: boolean; body: Record<string, unknown> }> {
  const r = (await c.callTool({ name, arguments: args })) as ToolResult;
  return { isError: r.isError === true, body: JSON.parse(r.content[0]?.text ?? "null") };
}
