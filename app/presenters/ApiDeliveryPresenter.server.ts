import { z } from "zod";
import { publicEventId } from "~/lib/events/catalog";
import { DELIVERY_STATUSES } from "~/lib/webhooks/delivery-status";
import { redactHeaders } from "~/lib/webhooks/headers";
import type { DeliverySummary, getDelivery } from "~/services/webhooks/delivery-log.server";

const IsoDateTime = z.iso.datetime({ offset: true });

/** One delivery (one event to one endpoint or OAuth app) as the JSON API lists it. */
export const ApiDeliverySummarySchema = z
  .object({
    id: z.string().meta({ description: "Also the `webhook-id` header of every attempt." }),
    eventId: z.string().meta({ description: "The event's id as receivers see it (`evt_…`)." }),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    url: z.string(),
    endpointId: z.string().nullable(),
    oauthAppId: z.string().nullable(),
    targetName: z.string().nullable().meta({ description: "The endpoint's or the OAuth app's name." }),
    attemptCount: z.number().int(),
    maxAttempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: IsoDateTime.nullable(),
    createdAt: IsoDateTime,
    completedAt: IsoDateTime.nullable(),
  })
  .meta({ id: "DeliverySummary" });

const HeadersSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

export const ApiDeliveryAttemptSchema = z
  .object({
    attemptNumber: z.number().int(),
    startedAt: IsoDateTime,
    durationMs: z.number().int(),
    request: z.object({
      url: z.string(),
      headers: HeadersSchema.meta({ description: "As sent; signatures and credentials read `[redacted]`." }),
    }),
    response: z
      .object({ status: z.number().int(), headers: HeadersSchema, body: z.string().nullable() })
      .nullable()
      .meta({ description: "Null when the receiver did not answer (timeout, connection error, refused address)." }),
    error: z.string().nullable(),
    nextAttemptAt: IsoDateTime.nullable(),
  })
  .meta({ id: "DeliveryAttempt" });

export const ApiDeliveryDetailSchema = ApiDeliverySummarySchema.extend({
  requestBody: z.string().meta({ description: "The exact body sent (the same bytes on every attempt)." }),
  attempts: z.array(ApiDeliveryAttemptSchema),
}).meta({ id: "Delivery" });

export const ApiDeliveryListSchema = z.object({
  data: z.array(ApiDeliverySummarySchema),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }),
});

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function presentApiDeliverySummary(delivery: DeliverySummary): z.output<typeof ApiDeliverySummarySchema> {
  return {
    id: delivery.id,
    eventId: publicEventId(delivery.eventId),
    eventType: delivery.eventType,
    status: delivery.status,
    url: delivery.url,
    endpointId: delivery.endpointId,
    oauthAppId: delivery.oauthClientId,
    targetName: delivery.endpoint?.name ?? delivery.oauthClient?.name ?? null,
    attemptCount: delivery.attemptCount,
    maxAttempts: delivery.maxAttempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    nextAttemptAt: iso(delivery.nextAttemptAt),
    createdAt: delivery.createdAt.toISOString(),
    completedAt: iso(delivery.completedAt),
  };
}

type DeliveryDetail = NonNullable<Awaited<ReturnType<typeof getDelivery>>>;

function storedHeaders(value: unknown): Record<string, string | string[]> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  // Stored already redacted; redacting again costs nothing and guards older rows.
  return redactHeaders(value as Record<string, string | string[]>);
}

export function presentApiDelivery(delivery: DeliveryDetail): z.output<typeof ApiDeliveryDetailSchema> {
  return {
    ...presentApiDeliverySummary(delivery),
    requestBody: delivery.body,
    attempts: delivery.attempts.map((attempt) => ({
      attemptNumber: attempt.attemptNumber,
      startedAt: attempt.startedAt.toISOString(),
      durationMs: attempt.durationMs,
      request: { url: attempt.requestUrl, headers: storedHeaders(attempt.requestHeaders) },
      response:
        attempt.responseStatus === null
          ? null
          : {
              status: attempt.responseStatus,
              headers: storedHeaders(attempt.responseHeaders),
              body: attempt.responseBody,
            },
      error: attempt.error,
      nextAttemptAt: iso(attempt.nextAttemptAt),
    })),
  };
}
