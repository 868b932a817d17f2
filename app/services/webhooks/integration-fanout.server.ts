import { randomUUID } from "node:crypto";
import { prisma, type Database } from "~/db.server";
import { serializeEndpointEnvelope } from "~/lib/events/catalog";
import { serializeIntegrationPayload } from "~/lib/webhooks/integration-payload";
import {
  endpointRecipientKey,
  findEndpointRecipients,
  findIntegrationRecipients,
} from "~/models/webhook-delivery.server";
import { sqlOn } from "~/services/database/sql.server";
import { logger } from "~/logger.server";
import { ServiceError } from "~/services/service-error.server";
import { triggerTasks, usesTriggerDev, type TriggerOptions } from "~/services/jobs.server";
import { TASK_RUN_CHANNEL } from "~/services/jobs/task-runs.server";
import { recordTriggerDevRuns } from "~/services/jobs/trigger-dev-runs.server";
import { scheduleDeliveries } from "./delivery-queue.server";
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
 * fanOutEvent for many events at once, as the embedded engine runs them: the events, each kind
 * of recipient, the deliveries (new and still open) and their runs each take one statement for
 * the whole batch. A missing event is an EventNotFoundError in its place.
 */
export async function fanOutEvents(
  eventIds: string[],
  db: Database = prisma,
): Promise<({ deliveries: number } | EventNotFoundError)[]> {
  const { rows: found } = await sqlOn<FannedEvent>(
    db,
    `SELECT id, type, "userId", source, payload, "createdAt" FROM "WebhookEvent" WHERE id = ANY($1::text[])`,
    [[...new Set(eventIds)]],
  );
  const byId = new Map(found.map((event) => [event.id, event]));
  const events = [...byId.values()].filter((event): event is FannedEvent & { userId: string } => !!event.userId);

  const [appRecipients, endpointRecipients] = await Promise.all([
    findIntegrationRecipients(
      db,
      events.filter((event) => OAUTH_APP_EVENT_TYPES.has(event.type)).map((event) => event.userId),
    ),
    // A test event goes only to the endpoint it was sent to (see sendTestEvent), never fanned out.
    findEndpointRecipients(
      db,
      events.filter((event) => event.type !== "webhook.test").map(({ userId, type }) => ({ userId, eventType: type })),
    ),
  ]);

  const perEvent = events.map((event) => {
    const deliveries: NewDelivery[] = [];
    if (OAUTH_APP_EVENT_TYPES.has(event.type)) {
      // The exact bytes every attempt signs and sends, fixed once.
      const body = serializeIntegrationPayload(event.payload);
      for (const client of appRecipients.get(event.userId) ?? []) {
        deliveries.push({
          id: randomUUID(),
          eventId: event.id,
          oauthClientId: client.id,
          eventType: event.type,
          url: client.webhookUrl,
          body,
          maxAttempts: client.webhookMaxRetries + 1,
        });
      }
    }
    if (event.type !== "webhook.test") {
      for (const endpoint of endpointRecipients.get(
        endpointRecipientKey({ userId: event.userId, eventType: event.type }),
      ) ?? []) {
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
  });

  if (events.length > 0) {
    const eventIdsFound = events.map((event) => event.id);
    if (usesTriggerDev) await triggerDeliveryRuns(await createDeliveries(db, eventIdsFound, perEvent.flat()));
    else await createDeliveriesAndWake(db, eventIdsFound, perEvent.flat());
  }
  const recipients = new Map(events.map((event, i) => [event.id, perEvent[i]!.length]));
  for (const event of events) {
    logger.info({ eventId: event.id, event: event.type, recipients: recipients.get(event.id) }, "Event fanned out");
  }
  return eventIds.map((id) => (byId.has(id) ? { deliveries: recipients.get(id) ?? 0 } : new EventNotFoundError(id)));
}

type FannedEvent = {
  id: string;
  type: string;
  userId: string | null;
  source: string;
  payload: unknown;
  createdAt: Date;
};

type OpenDelivery = { id: string; oauthClientId: string | null; endpointId: string | null };

/**
 * Inserts the deliveries (at most one per event and recipient: a re-run inserts nothing new)
 * and selects every delivery of the events still waiting to be sent, new or not: a fan-out
 * that ran before but died before queueing its runs queues them now.
 */
const INSERT_DELIVERIES_SQL = `
  inserted AS (
    INSERT INTO "WebhookDelivery" (id, "eventId", "oauthClientId", "endpointId", "eventType", url, body,
      "maxAttempts", "updatedAt")
    SELECT *, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::int[])
    ON CONFLICT DO NOTHING
    RETURNING id
  )`;

const OPEN_DELIVERIES_SQL = `
  inserted AS (
    INSERT INTO "WebhookDelivery" (id, "eventId", "oauthClientId", "endpointId", "eventType", url, body,
      "maxAttempts", "updatedAt")
    SELECT *, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::int[])
    ON CONFLICT DO NOTHING
    RETURNING id, "oauthClientId", "endpointId"
  ), open AS (
    SELECT id, "oauthClientId", "endpointId" FROM inserted
    UNION
    SELECT id, "oauthClientId", "endpointId" FROM "WebhookDelivery"
    WHERE "eventId" = ANY($9::text[]) AND status IN ('PENDING', 'RETRYING')
  )`;

function deliveryColumns(eventIds: string[], deliveries: NewDelivery[]): unknown[] {
  const column = <T>(pick: (delivery: NewDelivery) => T) => deliveries.map(pick);
  return [
    column((d) => d.id),
    column((d) => d.eventId),
    column((d) => d.oauthClientId ?? null),
    column((d) => d.endpointId ?? null),
    column((d) => d.eventType),
    column((d) => d.url),
    column((d) => d.body),
    column((d) => d.maxAttempts),
    eventIds,
  ];
}

/** The deliveries, returning the open ones for triggerDeliveryRuns (Trigger.dev). */
async function createDeliveries(db: Database, eventIds: string[], deliveries: NewDelivery[]): Promise<OpenDelivery[]> {
  const { rows } = await sqlOn<OpenDelivery>(
    db,
    `WITH ${OPEN_DELIVERIES_SQL} SELECT id, "oauthClientId", "endpointId" FROM open`,
    deliveryColumns(eventIds, deliveries),
  );
  return rows;
}

/**
 * The deliveries and, in the same statement, the notification that wakes the embedded engine's
 * delivery queue: on that engine the delivery row is its own queue entry (ADR 011), so a new
 * delivery is claimable the moment this commits, and an open one of an earlier, interrupted
 * fan-out already is.
 */
async function createDeliveriesAndWake(db: Database, eventIds: string[], deliveries: NewDelivery[]): Promise<void> {
  await sqlOn(
    db,
    `WITH ${INSERT_DELIVERIES_SQL}
     SELECT pg_notify($9, $10) FROM inserted HAVING count(*) > 0`,
    [...deliveryColumns(eventIds, deliveries).slice(0, 8), TASK_RUN_CHANNEL, WEBHOOK_DELIVERY_TASK_ID],
  );
}

/** Kept under the seed's name: the `oauth-integration-webhook-delivery` task calls it. */
export const fanOutIntegrationEvent = fanOutEvent;

/**
 * Trigger.dev: one run per delivery, deduplicated by `key` (default: the delivery itself). Runs
 * for one target share a concurrency key, so a slow receiver holds its own slots, not everyone's.
 * Embedded engine: the deliveries (already open) fall due after their delay, and the delivery
 * queue is woken; `key` has nothing to deduplicate there, as a delivery is claimed by its row.
 */
export async function triggerDeliveryRuns(
  deliveries: { id: string; oauthClientId: string | null; endpointId: string | null; delayMs?: number }[],
  key: (deliveryId: string) => string = (id) => `delivery:${id}`,
  options: TriggerOptions = {},
): Promise<void> {
  // The embedded engine has no run to create: the open delivery is the queue entry, made due.
  if (!usesTriggerDev) return scheduleDeliveries(prisma, deliveries);
  const triggered = await triggerTasks<typeof webhookDeliveryTask>(
    WEBHOOK_DELIVERY_TASK_ID,
    deliveries.map((delivery) => ({
      payload: { deliveryId: delivery.id },
      idempotencyKey: key(delivery.id),
      concurrencyKey: delivery.oauthClientId ?? delivery.endpointId ?? undefined,
      delayMs: delivery.delayMs,
    })),
    options,
  );
  // The runs exist whatever happens next: failing to note their ids must not undo the trigger (nor retry it).
  await recordTriggerDevRuns(
    prisma,
    "WebhookDelivery",
    deliveries.map((delivery, index) => ({ id: delivery.id, ...triggered[index]! })),
  ).catch((error: unknown) =>
    logger.warn({ err: error, deliveries: deliveries.length }, "Recording the deliveries' Trigger.dev runs failed"),
  );
}

/**
 * How long a user's request waits on Trigger.dev to take delivery runs. Past it, the runs are left to the
 * delivery sweeper (stuck-delivery-sweeper.server.ts), which finds the open deliveries the request wrote.
 */
export const REQUEST_TRIGGER_TIMEOUT_MS = 5_000;

/**
 * triggerDeliveryRuns for a request that has already reopened (or created) the deliveries: on Trigger.dev,
 * an API that fails or does not answer within REQUEST_TRIGGER_TIMEOUT_MS becomes a 503 with `outageMessage`,
 * which tells the user what was recorded and that it is sent once the job queue answers (the sweeper sees
 * to it). A failure of the embedded engine is the database's, and propagates as it is.
 */
export async function triggerDeliveryRunsFromRequest(
  deliveries: Parameters<typeof triggerDeliveryRuns>[0],
  key: (deliveryId: string) => string,
  outageMessage: string,
): Promise<void> {
  try {
    await triggerDeliveryRuns(deliveries, key, { timeoutMs: REQUEST_TRIGGER_TIMEOUT_MS });
  } catch (error) {
    if (!usesTriggerDev) throw error;
    logger.warn(
      { err: error, deliveries: deliveries.length },
      "Trigger.dev did not take the delivery runs; the delivery sweeper will trigger them",
    );
    throw new ServiceError(outageMessage, 503);
  }
}
