import { createHash } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { errorMessage, IntegrationEventType, type IntegrationModule } from "../types";

/**
 * The same server gets the same account id whatever the user typed: scheme, host and path,
 * lower-cased host, no trailing slash, no query. Hashed, so the id is short and URL-safe in
 * the `mcp://<host>/<provider>/<account_id>` endpoint.
 */
export function mcpAccountId(url: URL): string {
  const normalised = `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, "")}`;
  return createHash("sha256").update(normalised).digest("hex").slice(0, 24);
}

/** Any MCP server over Streamable HTTP: Echo performs the real initialize handshake. */
export const mcpIntegration: IntegrationModule = {
  slug: "mcp",
  async handleEvent(event, context) {
    if (event.type !== IntegrationEventType.SETUP || event.input.kind !== "mcp")
      return [errorMessage("Give the MCP server's URL.")];
    const url = new URL(event.input.url);
    const transport = new StreamableHTTPClientTransport(url, {
      fetch: context.fetch,
      requestInit: event.input.token ? { headers: { Authorization: `Bearer ${event.input.token}` } } : undefined,
    });
    const client = new Client({ name: "echo", version: "1.0.0" });
    try {
      await client.connect(transport, { timeout: 15_000 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const unauthorised = /401|403|unauthori[sz]ed|forbidden/i.test(reason);
      return [
        errorMessage(
          unauthorised
            ? "The MCP server refused the token. Check it and try again."
            : `Could not complete the MCP handshake with ${url.host}: ${reason.slice(0, 200)}`,
          unauthorised ? "token" : "url",
        ),
      ];
    }
    try {
      const server = client.getServerVersion();
      const name = server?.name ?? url.host;
      return [
        {
          type: "account",
          data: {
            accountId: mcpAccountId(url),
            displayName: server?.version ? `${name} ${server.version}` : name,
            settings: { url: `${url.origin}${url.pathname}`, serverName: name, serverVersion: server?.version ?? null },
            credentials: event.input.token ? { token: event.input.token } : {},
          },
        },
      ];
    } finally {
      await client.close().catch(() => undefined);
    }
  },
};
