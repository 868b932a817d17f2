import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { listen, readBody } from "./http";

/** A real MCP server over Streamable HTTP (stateless), optionally requiring a bearer token. */
export function startMcpStandIn({
  port = 0,
  name = "acme-docs",
  version = "2.1.0",
  token,
}: { port?: number; name?: string; version?: string; token?: string } = {}) {
  return listen(async (req, res) => {
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: "unauthorized" }));
      return;
    }
    const raw = await readBody(req);
    const server = new McpServer({ name, version });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, raw ? JSON.parse(raw) : undefined);
  }, port);
}
