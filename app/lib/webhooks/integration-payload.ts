import { z } from "zod";

/**
 * The `integration.connected` / `integration.disconnected` payload sent to OAuth apps.
 * Its shape is a contract with every receiver: change it only with a new event version.
 */
export type IntegrationEventType = "integration.connected" | "integration.disconnected";

export type IntegrationWebhookPayload = {
  event: IntegrationEventType;
  user_id: string;
  integration: {
    id: string;
    provider: string;
    account_id: string;
    mcp_endpoint: string;
    name: string;
    icon: string;
  };
  timestamp: string;
};

export function buildMcpEndpoint(mcpHost: string, provider: string, accountId: string): string {
  return `mcp://${mcpHost}/${encodeURIComponent(provider)}/${encodeURIComponent(accountId)}`;
}

export function buildIntegrationPayload(input: {
  type: IntegrationEventType;
  userId: string;
  integrationAccountId: string;
  accountId: string;
  provider: string;
  name: string;
  icon: string;
  mcpHost: string;
  occurredAt: Date;
}): IntegrationWebhookPayload {
  return {
    event: input.type,
    user_id: input.userId,
    integration: {
      id: input.integrationAccountId,
      provider: input.provider,
      account_id: input.accountId,
      mcp_endpoint: buildMcpEndpoint(input.mcpHost, input.provider, input.accountId),
      name: input.name,
      icon: input.icon,
    },
    timestamp: input.occurredAt.toISOString(),
  };
}

export const IntegrationWebhookPayloadSchema = z.object({
  event: z.enum(["integration.connected", "integration.disconnected"]),
  user_id: z.string(),
  integration: z.object({
    id: z.string(),
    provider: z.string(),
    account_id: z.string(),
    mcp_endpoint: z.string(),
    name: z.string(),
    icon: z.string(),
  }),
  timestamp: z.string(),
});

/**
 * The body bytes receivers get. PostgreSQL's jsonb does not keep key order, so the stored
 * payload is re-read through the schema, which emits keys in the contract's order.
 */
export function serializeIntegrationPayload(stored: unknown): string {
  return JSON.stringify(IntegrationWebhookPayloadSchema.parse(stored));
}
