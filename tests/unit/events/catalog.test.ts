import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EVENT_CATALOG,
  EVENT_TYPES,
  OPERATIONAL_EVENT_TYPES,
  customEventTypeNameProblem,
  describeBuiltInEventTypes,
  EventTypeNameSchema,
  parseEventPayload,
  serializeEndpointEnvelope,
} from "~/lib/events/catalog";

const webhooksDoc = readFileSync("docs/WEBHOOKS.md", "utf8");

/** The JSON blocks of the docs, parsed, so formatting does not matter. */
const documentedExamples = [...webhooksDoc.matchAll(/### `([a-z._]+)`[\s\S]*?```json\n([\s\S]*?)```/g)].map(
  ([, type, json]) => [type, JSON.parse(json!) as unknown] as const,
);

describe("the event catalog", () => {
  it.each(EVENT_TYPES)("%s: its example matches its schema, and docs/WEBHOOKS.md shows that example", (type) => {
    const { example } = EVENT_CATALOG[type];
    expect(parseEventPayload(type, example)).toEqual(example);
    expect(documentedExamples.find(([documented]) => documented === type)?.[1]).toEqual(example);
  });

  it("documents no event type that does not exist", () => {
    expect(documentedExamples.map(([type]) => type).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it("serves a JSON Schema per type that requires the payload's fields", () => {
    const described = describeBuiltInEventTypes();
    expect(described.map((entry) => entry.type)).toEqual(EVENT_TYPES);
    const connected = described.find((entry) => entry.type === "integration.connected")!;
    expect(connected.schema).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["event", "user_id", "integration", "timestamp"]),
    });
  });

  it("refuses a payload that does not match its type, and a payload of another type", () => {
    expect(() => parseEventPayload("oauth.grant.created", { event: "oauth.grant.created" })).toThrow();
    expect(() => parseEventPayload("webhook.test", EVENT_CATALOG["oauth.grant.created"].example)).toThrow();
  });
});

describe("event type names", () => {
  it.each(["order.created", "invoice.payment_failed", "a.b.c", "v2.order.created"])("accepts %s", (name) => {
    expect(EventTypeNameSchema.safeParse(name).success).toBe(true);
    expect(customEventTypeNameProblem(name)).toBeNull();
  });

  it.each([
    "order",
    "Order.Created",
    "order..created",
    ".order",
    "order.",
    "order created",
    "2fa.enabled",
    "ä.b",
    "x".repeat(99) + ".y",
  ])("refuses %s", (name) => {
    expect(EventTypeNameSchema.safeParse(name).success).toBe(false);
  });

  it.each([
    ["integration.connected", /Echo's own event types/],
    ["integration.synced", /reserved/],
    ["endpoint.renamed", /reserved/],
    ["webhook.ping", /reserved/],
    ["delivery.late", /reserved/],
  ])("keeps %s for Echo", (name, message) => {
    expect(customEventTypeNameProblem(name)).toMatch(message);
  });

  it("has four operational types, each in the catalog", () => {
    expect(OPERATIONAL_EVENT_TYPES).toEqual([
      "endpoint.disabled",
      "endpoint.enabled",
      "delivery.exhausted",
      "secret.rotated",
    ]);
    for (const type of OPERATIONAL_EVENT_TYPES) expect(EVENT_TYPES).toContain(type);
    expect(
      describeBuiltInEventTypes()
        .filter((entry) => entry.kind === "operational")
        .map((entry) => entry.type),
    ).toEqual([...OPERATIONAL_EVENT_TYPES]);
  });
});

describe("the endpoint envelope", () => {
  const event = {
    id: "cmevent1",
    type: "oauth.grant.created",
    createdAt: new Date("2026-01-15T09:30:00.000Z"),
    userId: "cmuser1",
    source: "oauth-grant:c:u",
    // jsonb hands keys back in its own order; the envelope restores the contract's.
    payload: {
      timestamp: "2026-01-15T09:30:00.000Z",
      scopes: ["openid"],
      client: { name: "Acme", id: "echo_app_1" },
      user_id: "cmuser1",
      event: "oauth.grant.created",
    },
  };

  it("names the event and the endpoint, with keys in the documented order", () => {
    const body = serializeEndpointEnvelope({ event, endpoint: { id: "cmendpoint1", name: "CRM" } });
    expect(body).toBe(
      '{"event":{"id":"evt_cmevent1","type":"oauth.grant.created","timestamp":"2026-01-15T09:30:00.000Z",' +
        '"userId":"cmuser1","source":"oauth-grant:c:u","payload":{"event":"oauth.grant.created","user_id":"cmuser1",' +
        '"client":{"id":"echo_app_1","name":"Acme"},"scopes":["openid"],"timestamp":"2026-01-15T09:30:00.000Z"}},' +
        '"webhook":{"id":"cmendpoint1","name":"CRM"}}',
    );
  });

  it("sends a custom type's payload as it was published (checked against its JSON Schema then)", () => {
    const body = serializeEndpointEnvelope({
      event: { ...event, type: "order.created", payload: { total: 42, id: "ord_1" } },
      endpoint: { id: "e", name: "n" },
    });
    expect(JSON.parse(body)).toMatchObject({ event: { type: "order.created", payload: { total: 42, id: "ord_1" } } });
  });

  it("refuses a type that cannot be in the catalog", () => {
    expect(() =>
      serializeEndpointEnvelope({ event: { ...event, type: "Not A Type" }, endpoint: { id: "e", name: "n" } }),
    ).toThrow(/not in the catalog/);
  });
});
