import { randomUUID } from "node:crypto";
import { prisma, type Database } from "~/db.server";
import { serializeEndpointEnvelope } from "~/lib/events/catalog";
import { getEndpoint, type EndpointActor } from "~/models/webhook-endpoint.server";
import { ServiceError } from "~/services/service-error.server";
import { attemptWebhookDelivery, type DeliveryAttemptResult } from "./deliver-webhook.server";
import { publishEvent } from "./publish.server";
import { triggerDeliveryRunsFromRequest } from "./integration-fanout.server";

export type TestSendResult = {
  eventId: string;
  deliveryId: string;
  outcome: DeliveryAttemptResult["outcome"];
  /** What the receiver answered to this first attempt (null when no attempt was made: paused, deferred). */
  attempt: {
    responseStatus: number | null;
    durationMs: number;
    error: string | null;
    responseBody: string | null;
    nextAttemptAt: Date | null;
  } | null;
};

/**
 * Sends a `webhook.test` event to one endpoint now and returns what its receiver answered.
 * It is a real delivery, signed and logged like any other; a retryable failure stays queued
 * and is retried on the endpoint's schedule.
 */
export async function sendTestEvent(
  actor: EndpointActor,
  endpointId: string,
  db: Database = prisma,
): Promise<TestSendResult> {
  const endpoint = await getEndpoint(db, actor, endpointId);
  if (!endpoint) throw new ServiceError("No such endpoint.", 404);

  const deliveryId = randomUUID();
  const eventId = await db.$transaction(async (tx) => {
    const occurredAt = new Date();
    const { eventId } = await publishEvent(
      endpoint.ownerId,
      "webhook.test",
      {
        event: "webhook.test",
        message: `This is a test event from Echo for the endpoint "${endpoint.name}".`,
        endpoint_id: endpoint.id,
        timestamp: occurredAt.toISOString(),
      },
      // Delivered right here to this endpoint alone: the dispatcher has nothing to hand over.
      { tx, source: `test:${endpoint.id}`, occurredAt, fanOut: false },
    );
    const event = await tx.webhookEvent.findUniqueOrThrow({
      where: { id: eventId },
      select: { id: true, type: true, createdAt: true, userId: true, source: true, payload: true },
    });
    await tx.webhookDelivery.create({
      data: {
        id: deliveryId,
        eventId,
        endpointId: endpoint.id,
        eventType: "webhook.test",
        url: endpoint.url,
        body: serializeEndpointEnvelope({ event, endpoint }),
        maxAttempts: endpoint.maxRetries + 1,
        // Held: this request makes the first attempt itself, and the delivery queue must not race it.
        nextAttemptAt: null,
      },
    });
    return eventId;
  });

  const result = await attemptWebhookDelivery(deliveryId, { db });
  if (result.outcome === "retry") {
    await triggerDeliveryRunsFromRequest(
      [
        {
          id: deliveryId,
          oauthClientId: null,
          endpointId: endpoint.id,
          delayMs: result.retryAt.getTime() - Date.now(),
        },
      ],
      (id) => `delivery:${id}`,
      "The test event was sent and failed; its retry is recorded, but the job queue is not answering right now, so the retry will be made once it answers. The delivery log shows the attempt.",
    );
  }
  const attempt = await db.deliveryAttempt.findFirst({
    where: { deliveryId },
    orderBy: { attemptNumber: "desc" },
    select: { responseStatus: true, durationMs: true, error: true, responseBody: true, nextAttemptAt: true },
  });
  return { eventId, deliveryId, outcome: result.outcome, attempt };
}
