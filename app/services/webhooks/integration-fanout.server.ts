import { randomUUID } from "node:crypto";
import { prisma, type Database } from "~/db.server";
import { serializeEndpointEnvelope } from "~/lib/events/catalog";
import { serializeIntegrationPayload } from "~/lib/webhooks/integration-payload";
import { findEndpointRecipients, findIntegrationRecipients } from "~/models/webhook-delivery.server";
import { logger } from "~/logger.server";
import { triggerTasks } from "~/services/jobs.server";
import type { webhookDeliveryTask } from "../../../trigger/webhook-delivery";

export const WEBHOOK_DELIVERY_TASK_ID = "webhook-delivery";

/** The seed's contract: OAuth apps hear of these, with the flat integration payload. */
const OAUTH_APP_EVENT_TYPES = new Set(["integration.connected", "integration.disconnected"]);

export class EventNotFoundError extends Error {
  constructor(eventId: string) {
    super(`Webhook event ${eventId} does not exist`);
    this.name = "EventNotFoundError";
  }
}

type NewDelivery = {
  id: string;
  eventId: string;
  eventType: string;
  url: string;
  body: string;
  maxAttempts: number;
  oauthClientId?: string;
  endpointId?: string;
};

/**
 * One WebhookDelivery per recipient (an OAuth app with the `integration` grant, or an
 * endpoint subscribed to the event's type), created at most once per (event, recipient)
 * however often this runs, then one delivery run each: every recipient is attempted and
 * retried on its own, so one failing receiver never causes a re-send to the others.
 */
export async function fanOutEvent(eventId: string, db: Database = prisma): Promise<{ deliveries: number }> {
  const [result] = await fanOutEvents([eventId], db);
  if (result instanceof EventNotFoundError) throw result;
  return result!;
}

/**
 * fanOutEvent for many events at once, as the embedded engine runs them: the events, the new
 * deliveries, the open ones and their runs each take one statement for the whole batch (the
 * recipients are still looked up per event). A missing event is an EventNotFoundError in its place.
 */
export async function fanOutEvents(
  eventIds: string[],
  db: Database = prisma,
): Promise<({ deliveries: number } | EventNotFoundError)[]> {
  const found = await db.webhookEvent.findMany({
    where: { id: { in: eventIds } },
    select: { id: true, type: true, userId: true, source: true, payload: true, createdAt: true },
  });
  const byId = new Map(found.map((event) => [event.id, event]));
  const events = [...byId.values()].filter((event) => event.userId);

  const perEvent = await Promise.all(
    events.map(async (event) => {
      const userId = event.userId as string;
      const deliveries: NewDelivery[] = [];
      if (OAUTH_APP_EVENT_TYPES.has(event.type)) {
        // The exact bytes every attempt signs and sends, fixed once.
        const body = serializeIntegrationPayload(event.payload);
        for (const client of await findIntegrationRecipients(db, userId)) {
          deliveries.push({
            id: randomUUID(),
            eventId: event.id,
            oauthClientId: client.id,
            eventType: event.type,
            url: client.webhookUrl as string,
            body,
            maxAttempts: client.webhookMaxRetries + 1,
          });
        }
      }
      // A test event goes only to the endpoint it was sent to (see sendTestEvent), never fanned out.
      if (event.type !== "webhook.test") {
        for (const endpoint of await findEndpointRecipients(db, { userId, eventType: event.type })) {
          deliveries.push({
            id: randomUUID(),
            eventId: event.id,
            endpointId: endpoint.id,
            eventType: event.type,
            url: endpoint.url,
            body: serializeEndpointEnvelope({ event, endpoint }),
            maxAttempts: endpoint.maxRetries + 1,
          });
        }
      }
      return deliveries;
    }),
  );
  const deliveries = perEvent.flat();
  if (deliveries.length > 0) await db.webhookDelivery.createMany({ data: deliveries, skipDuplicates: true });

  if (events.length > 0) {
    const open = await db.webhookDelivery.findMany({
      where: { eventId: { in: events.map((event) => event.id) }, status: { in: ["PENDING", "RETRYING"] } },
      select: { id: true, oauthClientId: true, endpointId: true },
    });
    await triggerDeliveryRuns(open);
  }
  const recipients = new Map(events.map((event, i) => [event.id, perEvent[i]!.length]));
  for (const event of events) {
    logger.info({ eventId: event.id, event: event.type, recipients: recipients.get(event.id) }, "Event fanned out");
  }
  return eventIds.map((id) => (byId.has(id) ? { deliveries: recipients.get(id) ?? 0 } : new EventNotFoundError(id)));
}

/** Kept under the seed's name: the `oauth-integration-webhook-delivery` task calls it. */
export const fanOutIntegrationEvent = fanOutEvent;

/**
 * One run per delivery, deduplicated by `key` (default: the delivery itself). Runs for one
 * target share a concurrency key, so a slow receiver holds its own slots, not everyone's.
 */
export function triggerDeliveryRuns(
  deliveries: { id: string; oauthClientId: string | null; endpointId: string | null; delayMs?: number }[],
  key: (deliveryId: string) => string = (id) => `delivery:${id}`,
): Promise<void> {
  return triggerTasks<typeof webhookDeliveryTask>(
    WEBHOOK_DELIVERY_TASK_ID,
    deliveries.map((delivery) => ({
      payload: { deliveryId: delivery.id },
      idempotencyKey: key(delivery.id),
      concurrencyKey: delivery.oauthClientId ?? delivery.endpointId ?? undefined,
      delayMs: delivery.delayMs,
    })),
  );
}
