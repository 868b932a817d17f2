import { randomUUID } from "node:crypto";
import { prisma, type Database } from "~/db.server";
import { serializeIntegrationPayload } from "~/lib/webhooks/integration-payload";
import { findIntegrationRecipients } from "~/models/webhook-delivery.server";
import { logger } from "~/logger.server";
import { triggerTasks } from "~/services/jobs.server";
import type { webhookDeliveryTask } from "../../../trigger/webhook-delivery";

export const WEBHOOK_DELIVERY_TASK_ID = "webhook-delivery";

export class EventNotFoundError extends Error {
  constructor(eventId: string) {
    super(`Webhook event ${eventId} does not exist`);
    this.name = "EventNotFoundError";
  }
}

/**
 * One WebhookDelivery per recipient app, created at most once per (event, app) however
 * often this runs, then one delivery run each: every app is attempted and retried on its
 * own, so one failing app never causes a re-send to the others.
 */
export async function fanOutIntegrationEvent(eventId: string, db: Database = prisma): Promise<{ deliveries: number }> {
  const event = await db.webhookEvent.findUnique({
    where: { id: eventId },
    select: { id: true, type: true, userId: true, payload: true },
  });
  if (!event) throw new EventNotFoundError(eventId);
  if (!event.userId) return { deliveries: 0 };

  const recipients = await findIntegrationRecipients(db, event.userId);
  // The exact bytes every attempt signs and sends, fixed once.
  const body = serializeIntegrationPayload(event.payload);
  if (recipients.length > 0) {
    await db.webhookDelivery.createMany({
      data: recipients.map((client) => ({
        id: randomUUID(),
        eventId: event.id,
        oauthClientId: client.id,
        eventType: event.type,
        url: client.webhookUrl as string,
        body,
        maxAttempts: client.webhookMaxRetries + 1,
      })),
      skipDuplicates: true,
    });
  }

  const open = await db.webhookDelivery.findMany({
    where: { eventId: event.id, status: { in: ["PENDING", "RETRYING"] } },
    select: { id: true, oauthClientId: true },
  });
  await triggerTasks<typeof webhookDeliveryTask>(
    WEBHOOK_DELIVERY_TASK_ID,
    open.map((delivery) => ({
      payload: { deliveryId: delivery.id },
      idempotencyKey: `delivery:${delivery.id}`,
      concurrencyKey: delivery.oauthClientId ?? undefined,
    })),
  );
  logger.info({ eventId: event.id, event: event.type, recipients: recipients.length }, "Integration event fanned out");
  return { deliveries: recipients.length };
}
