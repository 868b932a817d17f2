import { createHash } from "node:crypto";
import { OPERATIONAL_EVENT_TYPES, publicEventId } from "~/lib/events/catalog";
import { builtInEvent, type OutboxEvent } from "./publish.server";

/**
 * The operational events (endpoint.disabled, endpoint.enabled, delivery.exhausted,
 * secret.rotated): what the delivery pipeline and the endpoint services raise about an owner's
 * endpoints, built and checked like every event (builtInEvent). They are written in the
 * transaction of the change they announce; the rare transitions that raise them are the only
 * place they cost anything (docs/decisions/014-publish-api.md).
 */

/** What an operational event says about its endpoint, and to whom it goes (the endpoint's owner). */
export type EndpointSubject = { id: string; name: string; url: string; ownerId: string };

/** Operational events about one endpoint share a source, so they are handed over together. */
export const operationalEventSource = (endpointId: string) => `endpoint:${endpointId}`;

/**
 * A fixed id per transition (the delivery and its attempt, the endpoint and the moment it was
 * disabled): writing the same event twice (a record retried after a lost answer) writes it once.
 */
export function operationalEventId(key: string): string {
  const hex = createHash("sha256").update(key).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const endpointRef = (endpoint: EndpointSubject) => ({ id: endpoint.id, name: endpoint.name, url: endpoint.url });

export function endpointDisabledEvent(
  endpoint: EndpointSubject,
  { reason, by, at }: { reason: string; by: "echo" | "owner"; at: Date },
): OutboxEvent {
  return builtInEvent(
    endpoint.ownerId,
    "endpoint.disabled",
    {
      event: "endpoint.disabled",
      user_id: endpoint.ownerId,
      endpoint: endpointRef(endpoint),
      reason,
      disabled_by: by,
      timestamp: at.toISOString(),
    },
    {
      source: operationalEventSource(endpoint.id),
      occurredAt: at,
      id: operationalEventId(`endpoint.disabled:${endpoint.id}:${at.getTime()}`),
    },
  );
}

export function endpointEnabledEvent(endpoint: EndpointSubject, { reason, at }: { reason: string; at: Date }) {
  return builtInEvent(
    endpoint.ownerId,
    "endpoint.enabled",
    {
      event: "endpoint.enabled",
      user_id: endpoint.ownerId,
      endpoint: endpointRef(endpoint),
      reason,
      timestamp: at.toISOString(),
    },
    {
      source: operationalEventSource(endpoint.id),
      occurredAt: at,
      id: operationalEventId(`endpoint.enabled:${endpoint.id}:${at.getTime()}`),
    },
  );
}

export type ExhaustedDelivery = {
  id: string;
  eventId: string;
  eventType: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
};

export function deliveryExhaustedEvent(endpoint: EndpointSubject, delivery: ExhaustedDelivery, at: Date): OutboxEvent {
  return builtInEvent(
    endpoint.ownerId,
    "delivery.exhausted",
    {
      event: "delivery.exhausted",
      user_id: endpoint.ownerId,
      endpoint: endpointRef(endpoint),
      delivery: {
        id: delivery.id,
        event_id: publicEventId(delivery.eventId),
        event_type: delivery.eventType,
        attempts: delivery.attempts,
        last_status_code: delivery.lastStatusCode,
        last_error: delivery.lastError,
      },
      timestamp: at.toISOString(),
    },
    {
      source: operationalEventSource(endpoint.id),
      occurredAt: at,
      // One per failure for good: a delivery retried by hand that fails again raises a new one.
      id: operationalEventId(`delivery.exhausted:${delivery.id}:${delivery.attempts}`),
    },
  );
}

export function secretRotatedEvent(
  endpoint: EndpointSubject,
  { previousSecretExpiresAt, at }: { previousSecretExpiresAt: Date; at: Date },
): OutboxEvent {
  return builtInEvent(
    endpoint.ownerId,
    "secret.rotated",
    {
      event: "secret.rotated",
      user_id: endpoint.ownerId,
      endpoint: endpointRef(endpoint),
      previous_secret_expires_at: previousSecretExpiresAt.toISOString(),
      timestamp: at.toISOString(),
    },
    { source: operationalEventSource(endpoint.id), occurredAt: at },
  );
}

/** The operational types as an SQL list, for statements that must not raise one about another. */
export const OPERATIONAL_TYPES_SQL = OPERATIONAL_EVENT_TYPES.map((type) => `'${type}'`).join(", ");

/**
 * Disables an endpoint Echo gave up on (410 Gone, failing too long) and, only if this statement
 * is what disabled it, records its endpoint.disabled event, in one statement ($1 the endpoint,
 * $2 failing since, $3 disabled at (epoch ms), $4 the reason, then the event's id, type, user,
 * source, payload and time). Both engines' records use it, so the event is written exactly when
 * the endpoint's state changes, never twice for one disabling.
 */
export const DISABLE_ENDPOINT_SQL = `
  WITH before AS (
    SELECT id, "disabledAt" FROM "WebhookEndpoint" WHERE id = $1 FOR UPDATE
  ), updated AS (
    UPDATE "WebhookEndpoint" e
    SET "failingSince" = to_timestamp($2::float8 / 1000) AT TIME ZONE 'UTC',
        "disabledAt" = COALESCE(e."disabledAt", to_timestamp($3::float8 / 1000) AT TIME ZONE 'UTC'),
        "disabledReason" = CASE WHEN e."disabledAt" IS NULL THEN $4 ELSE e."disabledReason" END,
        "updatedAt" = now()
    FROM before WHERE e.id = before.id
    RETURNING before."disabledAt" IS NULL AS newly
  )
  INSERT INTO "WebhookEvent" (id, type, "userId", source, payload, "createdAt")
  SELECT $5, $6, $7, $8, $9::jsonb, to_timestamp($10::float8 / 1000) AT TIME ZONE 'UTC'
  FROM updated WHERE updated.newly AND $5::text IS NOT NULL
  ON CONFLICT (id) DO NOTHING`;

/** DISABLE_ENDPOINT_SQL's values; without an event (the delivery was itself operational) it only disables. */
export function disableEndpointValues(
  change: { endpointId: string; failingSince: Date; at: Date; reason: string },
  event: OutboxEvent | null,
): unknown[] {
  return [
    change.endpointId,
    change.failingSince.getTime(),
    change.at.getTime(),
    change.reason,
    event?.id ?? null,
    event?.type ?? null,
    event?.userId ?? null,
    event?.source ?? null,
    event ? JSON.stringify(event.payload) : null,
    event?.createdAt.getTime() ?? null,
  ];
}
