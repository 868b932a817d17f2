import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EVENT_CATALOG,
  EVENT_TYPES,
  describeEventTypes,
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
    const described = describeEventTypes();
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

  it("refuses an event type outside the catalog", () => {
    expect(() =>
      serializeEndpointEnvelope({ event: { ...event, type: "user.deleted" }, endpoint: { id: "e", name: "n" } }),
    ).toThrow(/not in the catalog/);
  });
});
