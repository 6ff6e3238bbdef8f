import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Ctx } from "../../branches/context.ts";
import { toBoughError } from "../../core/errors.ts";

export const project = z.string().optional().describe("project (default: the server's project)");
export const branch = z.string().describe("branch name");

const json = (v: unknown): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(v, null, 2) }],
  ...(v !== null && typeof v === "object" && !Array.isArray(v)
    ? { structuredContent: v as Record<string, unknown> }
    : {}),
});

/** A BoughError as an MCP tool error: the same code, message and hint as the CLI's --json. */
function toolError(err: unknown): CallToolResult {
  const e = toBoughError(err);
  const body = { code: e.code, message: e.message, hint: e.hint, details: e.details };
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body, null, 2) }] };
}

export interface ToolHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
}

/** Registers one tool: its call runs on the caller's context, its BoughError becomes a tool error. */
export type ToolRegistrar = <S extends z.ZodRawShape>(
  name: string,
  description: string,
  shape: S,
  run: (c: Ctx, a: z.infer<z.ZodObject<S>>) => Promise<unknown>,
  hints?: ToolHints,
) => void;

/** What a module of tools gets: the registrar and the project a call names (or the server's). */
export interface ToolKit {
  tool: ToolRegistrar;
  p(given: string | undefined): string;
}

/** The registrar of a server whose calls run on `as()` (the MCP actor's context). */
export function toolRegistrar(server: McpServer, as: () => Ctx): ToolRegistrar {
  return (name, description, shape, run, hints = {}) => {
    server.registerTool(
      name,
      { description, inputSchema: shape, annotations: hints },
      // biome-ignore lint/suspicious/noExplicitAny: the SDK infers the callback's arguments from shape
      (async (a: any) => {
        try {
          return json(await run(as(), a));
        } catch (err) {
          return toolError(err);
        }
      }) as never,
    );
  };
}
