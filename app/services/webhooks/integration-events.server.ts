import type { Prisma } from "~/generated/prisma/client";
import { env } from "~/env.server";
import { buildIntegrationPayload, type IntegrationEventType } from "~/lib/webhooks/integration-payload";
import { logger } from "~/logger.server";
import { dispatchPendingEvents } from "./outbox-dispatcher.server";

type Tx = Prisma.TransactionClient;

/** Receivers should never have to accept more; Svix and Stripe draw the line in the same place. */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

export class EventTooLargeError extends Error {
  readonly status = 413;
  constructor(bytes: number) {
    super(`The event body is ${bytes} bytes; Echo sends at most ${MAX_EVENT_BODY_BYTES} bytes (256 KB).`);
    this.name = "EventTooLargeError";
  }
}

export function assertEventBodySize(payload: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > MAX_EVENT_BODY_BYTES) throw new EventTooLargeError(bytes);
}

/**
 * Writes the outbox row for an integration event. Call it inside the same transaction
 * that creates, re-activates or disconnects the account: if that commits, the event
 * exists, and the dispatcher will deliver it even if everything else is down right now.
 */
export async function recordIntegrationEvent(
  tx: Tx,
  input: {
    type: IntegrationEventType;
    userId: string;
    account: { id: string; accountId: string };
    definition: { slug: string; name: string; icon: string };
  },
): Promise<{ eventId: string }> {
  const occurredAt = new Date();
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
  assertEventBodySize(payload);
  const event = await tx.webhookEvent.create({
    data: {
      type: input.type,
      userId: input.userId,
      source: `integration:${input.account.id}`,
      payload,
      createdAt: occurredAt,
    },
    select: { id: true },
  });
  return { eventId: event.id };
}

/**
 * The seed's non-blocking contract: called after the account is committed, it hands the
 * recorded events to the job engine right away. It never throws into integration
 * creation; if handing over fails, the error is logged and the dispatcher's sweep retries.
 */
export async function triggerOAuthIntegrationWebhook(integrationAccountId: string, userId: string): Promise<void> {
  try {
    await dispatchPendingEvents({ source: `integration:${integrationAccountId}` });
  } catch (error) {
    logger.error(
      { err: error, integrationAccountId, userId },
      "Handing the integration event to the job engine failed; the outbox sweep will retry",
    );
  }
}
