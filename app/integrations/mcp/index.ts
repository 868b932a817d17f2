import { createHash } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import {
  errorMessage,
  IntegrationEventType,
  unavailableMessage,
  type ErrorMessage,
  type IntegrationModule,
} from "../types";

/**
 * The same server gets the same account id whatever the user typed: scheme, host and path,
 * lower-cased host, no trailing slash, no query. Hashed, so the id is short and URL-safe in
 * the `mcp://<host>/<provider>/<account_id>` endpoint.
 */
export function mcpAccountId(url: URL): string {
  const normalised = `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, "")}`;
  return createHash("sha256").update(normalised).digest("hex").slice(0, 24);
}

/** The errors in `error` and its causes, outermost first (undici hides the reason in `cause`). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 5;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * What the user sees when the handshake fails. A refused token belongs beside the token
 * field; a refused (private) address, or a server that does not speak MCP, beside the URL;
 * a server that is down, slow or failing (5xx, 429) is retryable: nothing the user typed is wrong.
 */
function handshakeFailure(error: unknown, url: URL): ErrorMessage {
  const chain = causes(error);
  const httpStatus = chain.find((entry) => entry instanceof StreamableHTTPError)?.code;
  if (httpStatus === 401 || httpStatus === 403)
    return errorMessage("The MCP server refused the token. Check it and try again.", "token");
  const forbidden = chain.find(
    (entry): entry is Error =>
      entry instanceof Error && (entry as { code?: unknown }).code === "ECHO_FORBIDDEN_ADDRESS",
  );
  if (forbidden) return errorMessage(forbidden.message, "url");
  const reason = error instanceof Error ? error.message : String(error);
  const message = `Could not complete the MCP handshake with ${url.host}: ${reason.slice(0, 200)}`;
  const timedOut = error instanceof McpError && error.code === ErrorCode.RequestTimeout;
  const unreachable = error instanceof TypeError && !httpStatus;
  const failing = httpStatus !== undefined && (httpStatus === 429 || httpStatus >= 500);
  return timedOut || unreachable || failing ? unavailableMessage(message, "url") : errorMessage(message, "url");
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
      return [handshakeFailure(error, url)];
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
