import { z } from "zod";
import { IntegrationWebhookPayloadSchema } from "~/lib/webhooks/integration-payload";

/**
 * Echo's event catalog: every event type an endpoint can subscribe to, with the schema of
 * its payload and an example. The schemas are the contract with receivers (documented in
 * docs/WEBHOOKS.md and served as JSON Schema by the API), and they fix the key order of
 * the bytes Echo sends (PostgreSQL's jsonb does not keep it).
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

const EXAMPLE_TIME = "2026-01-15T09:30:00.000Z";
const EXAMPLE_USER = "cmf1x2y3z0000user00000001";

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
} as const satisfies Record<string, { description: string; schema: z.ZodType; example: unknown }>;

export type EventType = keyof typeof EVENT_CATALOG;
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as [EventType, ...EventType[]];
export const EventTypeSchema = z.enum(EVENT_TYPES, {
  message: `Unknown event type; the catalog has ${EVENT_TYPES.join(", ")}`,
});
export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]["schema"]>;

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_CATALOG, value);
}

/** Throws when a payload does not match its type's schema: Echo never sends what it documents otherwise. */
export function parseEventPayload<T extends EventType>(type: T, payload: unknown): EventPayload<T> {
  return EVENT_CATALOG[type].schema.parse(payload) as EventPayload<T>;
}

/** The catalog as the API and the docs show it. */
export function describeEventTypes() {
  return EVENT_TYPES.map((type) => ({
    type,
    description: EVENT_CATALOG[type].description,
    schema: z.toJSONSchema(EVENT_CATALOG[type].schema, { target: "draft-2020-12", io: "output" }),
    example: EVENT_CATALOG[type].example,
  }));
}

/** Endpoint event ids carry a prefix, so a receiver can tell them from other ids at a glance. */
export const EVENT_ID_PREFIX = "evt_";
export function publicEventId(eventId: string): string {
  return `${EVENT_ID_PREFIX}${eventId}`;
}

export type EndpointEnvelope = {
  event: {
    id: string;
    type: EventType;
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
 */
export function serializeEndpointEnvelope(input: {
  event: { id: string; type: string; createdAt: Date; userId: string | null; source: string; payload: unknown };
  endpoint: { id: string; name: string };
}): string {
  if (!isEventType(input.event.type)) throw new Error(`Event type ${input.event.type} is not in the catalog`);
  const envelope: EndpointEnvelope = {
    event: {
      id: publicEventId(input.event.id),
      type: input.event.type,
      timestamp: input.event.createdAt.toISOString(),
      userId: input.event.userId,
      source: input.event.source,
      payload: parseEventPayload(input.event.type, input.event.payload),
    },
    webhook: { id: input.endpoint.id, name: input.endpoint.name },
  };
  return JSON.stringify(envelope);
}
