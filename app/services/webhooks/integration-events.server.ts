import type { Prisma } from "~/generated/prisma/client";
import { env } from "~/env.server";
import { buildIntegrationPayload, type IntegrationEventType } from "~/lib/webhooks/integration-payload";
import { checkedEventPayload, dispatchEventsOf, publishEvent } from "./publish.server";

type Tx = Prisma.TransactionClient;

export { EventTooLargeError, MAX_EVENT_BODY_BYTES, assertEventBodySize } from "./publish.server";

/**
 * Writes the outbox row for an integration event. Call it inside the same transaction
 * that creates, re-activates or disconnects the account: if that commits, the event
 * exists, and the dispatcher will deliver it even if everything else is down right now.
 */
export async function recordIntegrationEvent(tx: Tx, input: IntegrationEventInput): Promise<{ eventId: string }> {
  const occurredAt = new Date();
  return publishEvent(input.userId, input.type, integrationEventPayload(input, occurredAt), {
    tx,
    source: integrationEventSource(input.account.id),
    occurredAt,
  });
}

type IntegrationEventInput = {
  type: IntegrationEventType;
  userId: string;
  account: { id: string; accountId: string };
  definition: { slug: string; name: string; icon: string };
};

export const integrationEventSource = (integrationAccountId: string) => `integration:${integrationAccountId}`;

/** The event's payload, checked against the catalog (see publishEvent). */
export function integrationEventPayload(input: IntegrationEventInput, occurredAt: Date) {
  const payload = buildIntegrationPayload({
    type: input.type,
    userId: input.userId,
    integrationAccountId: input.account.id,
    accountId: input.account.accountId,
    provider: input.definition.slug,
    name: input.definition.name,
    // Receivers live elsewhere: give them an absolute URL for the icon.
    icon: new URL(input.definition.icon, env.APP_URL).href,
    mcpHost: env.MCP_HOST,
    occurredAt,
  });
  return checkedEventPayload(input.type, payload);
}

/**
 * The seed's non-blocking contract: called after the account is committed, it hands the
 * recorded events to the job engine right away. It never throws into integration
 * creation; if handing over fails, the error is logged and the dispatcher's sweep retries.
 */
export async function triggerOAuthIntegrationWebhook(integrationAccountId: string, userId: string): Promise<void> {
  await dispatchEventsOf(integrationEventSource(integrationAccountId), { integrationAccountId, userId });
}
