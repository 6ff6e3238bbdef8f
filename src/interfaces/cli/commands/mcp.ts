import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Command } from "commander";
import { buildMcpServer } from "../../mcp/server.ts";
import { withSession } from "../session.ts";

export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description("serve the MCP server over stdio (for AI agents: branch, change, dry-run, merge)")
    .option("--allow-main-writes", "let run_sql write on the root branch main")
    .action(
      withSession(async (s, o: { allowMainWrites?: boolean }) => {
        const server = buildMcpServer(s.ctx, {
          project: s.opts.project,
          actorName: "stdio",
          allowMainWrites: o.allowMainWrites,
        });
        const closed = new Promise<void>((done) => {
          server.server.onclose = done;
        });
        // The client closing stdin is the end of the session.
        process.stdin.on("end", () => void server.close());
        await server.connect(new StdioServerTransport());
        await closed;
      }),
    );
}
