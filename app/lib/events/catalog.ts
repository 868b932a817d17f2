import { z } from "zod";
import { IntegrationWebhookPayloadSchema } from "~/lib/webhooks/integration-payload";

/**
 * Echo's own event types (built in): each with the schema of its payload and an example. The
 * schemas are the contract with receivers (documented in docs/WEBHOOKS.md and served as JSON
 * Schema by the API), and they fix the key order of the bytes Echo sends (PostgreSQL's jsonb
 * does not keep it). Custom types, which producers publish through the API, are data
 * (the EventType table, app/services/webhooks/event-types.server.ts); the catalog a user sees is
 * both.
 */

const IsoTimestamp = z.iso.datetime({ offset: true });

const IntegrationHealthPayloadSchema = z.object({
  event: z.enum(["integration.health_warning", "integration.health_cleared"]),
  user_id: z.string(),
  integration: z.object({
    id: z.string(),
    provider: z.string(),
    account_id: z.string(),
    name: z.string(),
  }),
  /** What is wrong (warning) or what was wrong (cleared), in words a person can act on. */
  reason: z.string(),
  timestamp: IsoTimestamp,
});

const OAuthGrantPayloadSchema = z.object({
  event: z.enum(["oauth.grant.created", "oauth.grant.revoked"]),
  user_id: z.string(),
  client: z.object({ id: z.string(), name: z.string() }),
  scopes: z.array(z.string()),
  timestamp: IsoTimestamp,
});

const WebhookTestPayloadSchema = z.object({
  event: z.literal("webhook.test"),
  message: z.string(),
  endpoint_id: z.string(),
  timestamp: IsoTimestamp,
});

/** The endpoint an operational event is about. */
const EndpointRefSchema = z.object({ id: z.string(), name: z.string(), url: z.string() });

const EndpointDisabledPayloadSchema = z.object({
  event: z.literal("endpoint.disabled"),
  user_id: z.string(),
  endpoint: EndpointRefSchema,
  /** Why it receives nothing any more, in words a person can act on. */
  reason: z.string(),
  /** `echo`: Echo disabled it (410 Gone, or failing too long); `owner`: its owner switched it off. */
  disabled_by: z.enum(["echo", "owner"]),
  timestamp: IsoTimestamp,
});

const EndpointEnabledPayloadSchema = z.object({
  event: z.literal("endpoint.enabled"),
  user_id: z.string(),
  endpoint: EndpointRefSchema,
  reason: z.string(),
  timestamp: IsoTimestamp,
});

const DeliveryExhaustedPayloadSchema = z.object({
  event: z.literal("delivery.exhausted"),
  user_id: z.string(),
  endpoint: EndpointRefSchema,
  delivery: z.object({
    id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
  }),
  timestamp: IsoTimestamp,
});

const SecretRotatedPayloadSchema = z.object({
  event: z.literal("secret.rotated"),
  user_id: z.string(),
  endpoint: EndpointRefSchema,
  /** Until then the previous secret signs too (a second signature in each header). */
  previous_secret_expires_at: IsoTimestamp,
  timestamp: IsoTimestamp,
});

const EXAMPLE_TIME = "2026-01-15T09:30:00.000Z";
const EXAMPLE_USER = "cmf1x2y3z0000user00000001";

const EXAMPLE_ENDPOINT = {
  id: "cmf1x2y3z0000endp0000001",
  name: "Orders service",
  url: "https://example.com/webhooks/echo",
};

const integrationExample = (event: "integration.connected" | "integration.disconnected") => ({
  event,
  user_id: EXAMPLE_USER,
  integration: {
    id: "cmf1x2y3z0000acct0000001",
    provider: "linear",
    account_id: "a7c1e2d4-linear-user",
    mcp_endpoint: "mcp://echo.example.com/linear/a7c1e2d4-linear-user",
    name: "Linear",
    icon: "https://echo.example.com/integrations/linear.svg",
  },
  timestamp: EXAMPLE_TIME,
});

export const EVENT_CATALOG = {
  "integration.connected": {
    description: "A user connected an integration (OAuth 2.0, API key or MCP server), or reconnected one.",
    schema: IntegrationWebhookPayloadSchema,
    example: integrationExample("integration.connected"),
  },
  "integration.disconnected": {
    description: "A user disconnected an integration; its credentials are deleted.",
    schema: IntegrationWebhookPayloadSchema,
    example: integrationExample("integration.disconnected"),
  },
  "integration.health_warning": {
    description:
      "An integration stopped working (its credentials were refused or expired); the user must reconnect it.",
    schema: IntegrationHealthPayloadSchema,
    example: {
      event: "integration.health_warning",
      user_id: EXAMPLE_USER,
      integration: { id: "cmf1x2y3z0000acct0000001", provider: "linear", account_id: "a7c1e2d4", name: "Linear" },
      reason: "Linear refused the stored access token (401).",
      timestamp: EXAMPLE_TIME,
    },
  },
  "integration.health_cleared": {
    description: "An integration that had a health warning works again.",
    schema: IntegrationHealthPayloadSchema,
    example: {
      event: "integration.health_cleared",
      user_id: EXAMPLE_USER,
      integration: { id: "cmf1x2y3z0000acct0000001", provider: "linear", account_id: "a7c1e2d4", name: "Linear" },
      reason: "The integration was reconnected.",
      timestamp: EXAMPLE_TIME,
    },
  },
  "oauth.grant.created": {
    description: "A user approved an OAuth app (or approved more scopes for it).",
    schema: OAuthGrantPayloadSchema,
    example: {
      event: "oauth.grant.created",
      user_id: EXAMPLE_USER,
      client: { id: "echo_app_0f3a9c", name: "Acme CRM" },
      scopes: ["openid", "integration"],
      timestamp: EXAMPLE_TIME,
    },
  },
  "oauth.grant.revoked": {
    description: "A user revoked an OAuth app's access, or the app was deleted.",
    schema: OAuthGrantPayloadSchema,
    example: {
      event: "oauth.grant.revoked",
      user_id: EXAMPLE_USER,
      client: { id: "echo_app_0f3a9c", name: "Acme CRM" },
      scopes: ["openid", "integration"],
      timestamp: EXAMPLE_TIME,
    },
  },
  "webhook.test": {
    description: "Sent on request to one endpoint, to check that it receives and verifies Echo's webhooks.",
    schema: WebhookTestPayloadSchema,
    example: {
      event: "webhook.test",
      message: "This is a test event from Echo.",
      endpoint_id: "cmf1x2y3z0000endp0000001",
      timestamp: EXAMPLE_TIME,
    },
  },
  "endpoint.disabled": {
    description:
      "An endpoint stopped receiving: Echo disabled it (410 Gone, or every delivery failed for too long) or its owner switched it off. Operational: sent only to endpoints that subscribe to it by name.",
    schema: EndpointDisabledPayloadSchema,
    example: {
      event: "endpoint.disabled",
      user_id: EXAMPLE_USER,
      endpoint: EXAMPLE_ENDPOINT,
      reason: "The receiver answered 410 Gone on 2026-01-15T09:30:00.000Z.",
      disabled_by: "echo",
      timestamp: EXAMPLE_TIME,
    },
  },
  "endpoint.enabled": {
    description:
      "An endpoint that received nothing receives again: its owner switched it on, or saved it after Echo disabled it. Operational: sent only to endpoints that subscribe to it by name.",
    schema: EndpointEnabledPayloadSchema,
    example: {
      event: "endpoint.enabled",
      user_id: EXAMPLE_USER,
      endpoint: EXAMPLE_ENDPOINT,
      reason: "Its owner saved its settings after Echo had disabled it.",
      timestamp: EXAMPLE_TIME,
    },
  },
  "delivery.exhausted": {
    description:
      "A delivery to an endpoint failed for good: its retries ran out, or the receiver answered with an error that is not retried. Operational: sent only to endpoints that subscribe to it by name.",
    schema: DeliveryExhaustedPayloadSchema,
    example: {
      event: "delivery.exhausted",
      user_id: EXAMPLE_USER,
      endpoint: EXAMPLE_ENDPOINT,
      delivery: {
        id: "9b2f6f1e-0c4e-4b8e-a8f5-1d2c3b4a5e6f",
        event_id: "evt_cmf1x2y3z0000evnt0000001",
        event_type: "order.created",
        attempts: 8,
        last_status_code: 503,
        last_error: "HTTP 503",
      },
      timestamp: EXAMPLE_TIME,
    },
  },
  "secret.rotated": {
    description:
      "An endpoint's signing secret was rotated; the previous one keeps signing until the given time. Operational: sent only to endpoints that subscribe to it by name.",
    schema: SecretRotatedPayloadSchema,
    example: {
      event: "secret.rotated",
      user_id: EXAMPLE_USER,
      endpoint: EXAMPLE_ENDPOINT,
      previous_secret_expires_at: "2026-01-16T09:30:00.000Z",
      timestamp: EXAMPLE_TIME,
    },
  },
} as const satisfies Record<string, { description: string; schema: z.ZodType; example: unknown }>;

/** One of Echo's own (built-in) event types. */
export type EventType = keyof typeof EVENT_CATALOG;
/** Echo's own event types, in catalog order. */
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as [EventType, ...EventType[]];
export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]["schema"]>;

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_CATALOG, value);
}

/**
 * Raised by the delivery pipeline itself about an owner's endpoints. They go only to endpoints
 * that name them (an endpoint subscribed to "all events" does not get them), only to the
 * owner's own endpoints (not those an OAuth app registered), and a failure to deliver one
 * raises no further operational event (no feedback loop).
 */
export const OPERATIONAL_EVENT_TYPES = [
  "endpoint.disabled",
  "endpoint.enabled",
  "delivery.exhausted",
  "secret.rotated",
] as const satisfies readonly EventType[];
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

export function isOperationalEventType(value: string): value is OperationalEventType {
  return (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Names of Echo's own event families: a custom type cannot take one, so a producer can never
 * pass its events off as Echo's, and a type Echo adds later cannot collide with a custom one.
 */
export const RESERVED_EVENT_NAMESPACES = ["integration", "oauth", "webhook", "endpoint", "delivery", "secret", "echo"];

export const EVENT_TYPE_NAME_MAX = 100;
const EVENT_TYPE_NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Any event type's name, built in or custom: `order.created` style. Whether it exists is the catalog's to say. */
export const EventTypeNameSchema = z
  .string()
  .max(EVENT_TYPE_NAME_MAX, `An event type's name is at most ${EVENT_TYPE_NAME_MAX} characters`)
  .regex(
    EVENT_TYPE_NAME_PATTERN,
    "An event type's name is lowercase words (a-z, 0-9, _) separated by dots, e.g. order.created",
  )
  .meta({ description: "An event type's name, e.g. `order.created`.", example: "order.created" });

/** Why a custom type may not take this name, or null when it may. */
export function customEventTypeNameProblem(name: string): string | null {
  if (isEventType(name)) return `${name} is one of Echo's own event types.`;
  const namespace = name.split(".")[0]!;
  if (RESERVED_EVENT_NAMESPACES.includes(namespace))
    return `Names starting with "${namespace}." are reserved for Echo's own event types; choose another first word.`;
  return null;
}

/** Throws when a payload does not match its type's schema: Echo never sends what it documents otherwise. */
export function parseEventPayload<T extends EventType>(type: T, payload: unknown): EventPayload<T> {
  return EVENT_CATALOG[type].schema.parse(payload) as EventPayload<T>;
}

export type EventTypeKind = "built-in" | "operational" | "custom";

type BuiltInDescription = {
  type: EventType;
  kind: EventTypeKind;
  description: string;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
};
let described: BuiltInDescription[] | undefined;

/** Echo's own types as the API and the docs show them (rendered once: they are code). */
export function describeBuiltInEventTypes(): BuiltInDescription[] {
  described ??= EVENT_TYPES.map((type) => ({
    type,
    kind: (isOperationalEventType(type) ? "operational" : "built-in") as EventTypeKind,
    description: EVENT_CATALOG[type].description,
    schema: z.toJSONSchema(EVENT_CATALOG[type].schema, { target: "draft-2020-12", io: "output" }) as Record<
      string,
      unknown
    >,
    example: EVENT_CATALOG[type].example as Record<string, unknown>,
  }));
  return described;
}

/** Endpoint event ids carry a prefix, so a receiver can tell them from other ids at a glance. */
export const EVENT_ID_PREFIX = "evt_";
export function publicEventId(eventId: string): string {
  return `${EVENT_ID_PREFIX}${eventId}`;
}

export type EndpointEnvelope = {
  event: {
    id: string;
    type: string;
    timestamp: string;
    userId: string | null;
    source: string;
    payload: unknown;
  };
  webhook: { id: string; name: string };
};

/**
 * The body an endpoint receives. OAuth apps keep the seed's flat integration payload;
 * endpoints get the envelope, which names the event and the endpoint it was sent to.
 * A built-in type's payload is put in its schema's key order; a custom type's payload was
 * checked against its JSON Schema when it was published and goes out as stored.
 */
export function serializeEndpointEnvelope(input: {
  event: { id: string; type: string; createdAt: Date; userId: string | null; source: string; payload: unknown };
  endpoint: { id: string; name: string };
}): string {
  const { type } = input.event;
  if (!isEventType(type) && !EVENT_TYPE_NAME_PATTERN.test(type))
    throw new Error(`Event type ${type} is not in the catalog`);
  const envelope: EndpointEnvelope = {
    event: {
      id: publicEventId(input.event.id),
      type,
      timestamp: input.event.createdAt.toISOString(),
      userId: input.event.userId,
      source: input.event.source,
      payload: isEventType(type) ? parseEventPayload(type, input.event.payload) : input.event.payload,
    },
    webhook: { id: input.endpoint.id, name: input.endpoint.name },
  };
  return JSON.stringify(envelope);
}
