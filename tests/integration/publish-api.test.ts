import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { verifyWebhook } from "~/lib/webhooks/signing";
import { deleteExpiredIdempotencyKeys } from "~/services/webhooks/publish.server";
import { apiUser, oauthAppToken, type ApiCall } from "../support/api-client";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { waitFor } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// The publish API and the event catalog over HTTP, against the real built Echo with its worker:
// a published event reaches every subscribed endpoint, signed; every refusal writes nothing.
let echo: RunningEcho;
let inbox: WebhookReceiver;
let operator: { userId: string; key: string; call: ApiCall };
let alice: { userId: string; key: string; call: ApiCall };
let bob: { userId: string; key: string; call: ApiCall };
/** Alice's endpoints: subscribed to order.created, to every type, and to another custom type. */
const endpoints = { orders: { id: "", secret: "" }, everything: { id: "", secret: "" }, other: { id: "" } };

const ORDER_SCHEMA = {
  type: "object",
  properties: {
    id: { type: "string" },
    total: { type: "number", minimum: 0 },
    currency: { type: "string", enum: ["EUR", "USD"] },
    items: { type: "array", items: { type: "object", properties: { sku: { type: "string" } }, required: ["sku"] } },
  },
  required: ["id", "total"],
  additionalProperties: false,
};
const ORDER = { id: "ord_1", total: 42.5, currency: "EUR" };

beforeAll(async () => {
  inbox = await startWebhookReceiver();
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
  operator = await apiUser(prisma, echo.url);
  await prisma.user.update({ where: { id: operator.userId }, data: { isOperator: true } });
  alice = await apiUser(prisma, echo.url);
  bob = await apiUser(prisma, echo.url);
  for (const [name, schema, example] of [
    ["order.created", ORDER_SCHEMA, ORDER],
    ["order.paid", { type: "object" }, {}],
  ] as const) {
    const created = await operator.call("/event-types", {
      method: "POST",
      json: { name, description: `The ${name} event.`, schema, example },
    });
    expect(created.status, await created.clone().text()).toBe(201);
  }
  const make = async (name: string, path: string, eventTypes: string[]) => {
    const response = await alice.call("/endpoints", {
      method: "POST",
      json: { name, url: `${inbox.url}/${path}`, eventTypes },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as { id: string; secret: string };
  };
  endpoints.orders = await make("Orders", "orders", ["order.created"]);
  endpoints.everything = await make("Everything", "everything", []);
  endpoints.other = await make("Paid only", "paid", ["order.paid"]);
}, 90_000);

afterAll(async () => {
  await echo?.stop();
  await inbox?.close();
});

const publish = (caller: { call: ApiCall }, body: unknown, headers: Record<string, string> = {}) =>
  caller.call("/events", { method: "POST", json: body, headers });

/** Everything a publish writes itself (deliveries follow from events, later, in the worker). */
async function written() {
  const [events, keys] = await Promise.all([prisma.webhookEvent.count(), prisma.publishIdempotencyKey.count()]);
  return { events, keys };
}

function receivedFor(eventId: string, path?: string) {
  return inbox.received.filter(
    (request) =>
      (path === undefined || request.path.endsWith(`/${path}`)) &&
      (JSON.parse(request.body) as { event: { id: string } }).event.id === eventId,
  );
}

async function expectProblem(response: Response, status: number) {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  return JSON.parse(text) as { detail: string; errors?: { field: string; message: string }[] };
}

describe("the event catalog", () => {
  it("lists Echo's own types (built in and operational) and the custom ones, with schemas and examples", async () => {
    const response = await alice.call("/event-types");
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { type: string; kind: string; schema: object }[] };
    expect(data.filter((entry) => entry.kind === "built-in")).toHaveLength(7);
    expect(data.filter((entry) => entry.kind === "operational").map((entry) => entry.type)).toEqual([
      "endpoint.disabled",
      "endpoint.enabled",
      "delivery.exhausted",
      "secret.rotated",
    ]);
    expect(data.find((entry) => entry.type === "order.created")).toMatchObject({
      kind: "custom",
      schema: ORDER_SCHEMA,
      example: ORDER,
      archived: false,
    });
  });

  it("is read by OAuth apps with the integration scope too", async () => {
    const app = await oauthAppToken(prisma, echo.url, { userId: alice.userId, scopes: ["integration"] });
    const response = await app.call("/event-types/order.created");
    expect(response.status).toBe(200);
  });

  it("is managed by operators only", async () => {
    const before = await prisma.eventType.count();
    const refused = await expectProblem(
      await alice.call("/event-types", {
        method: "POST",
        json: { name: "order.sneaky", description: "x", schema: {}, example: {} },
      }),
      403,
    );
    expect(refused.detail).toMatch(/operator/);
    await expectProblem(
      await alice.call("/event-types/order.created", { method: "PATCH", json: { archived: true } }),
      403,
    );
    expect(await prisma.eventType.count()).toBe(before);
  });

  it.each([
    [
      "a schema that is not JSON Schema 2020-12",
      { name: "refund.issued", schema: { type: "objekt" }, example: {} },
      "schema.type",
    ],
    ["a misspelt keyword", { name: "refund.issued", schema: { requried: ["a"] }, example: {} }, "schema"],
    [
      "an example that does not match",
      { name: "refund.issued", schema: ORDER_SCHEMA, example: { id: 1, total: -1 } },
      "example.total",
    ],
    ["one of Echo's names", { name: "integration.synced", schema: {}, example: {} }, "name"],
    ["a name that is not dotted words", { name: "Refund Issued", schema: {}, example: {} }, "name"],
  ])("refuses %s, naming the field", async (_case, input, field) => {
    const before = await prisma.eventType.count();
    const problem = await expectProblem(
      await operator.call("/event-types", { method: "POST", json: { description: "A refund.", ...input } }),
      400,
    );
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await prisma.eventType.count()).toBe(before);
  });

  it("refuses a second type of the same name with 409", async () => {
    await expectProblem(
      await operator.call("/event-types", {
        method: "POST",
        json: { name: "order.created", description: "Again.", schema: {}, example: {} },
      }),
      409,
    );
  });

  it("changes a type, archives and restores it; an archived type is listed only when asked", async () => {
    await operator.call("/event-types", {
      method: "POST",
      json: { name: "coupon.redeemed", description: "A coupon was used.", schema: { type: "object" }, example: {} },
    });
    const changed = await operator.call("/event-types/coupon.redeemed", {
      method: "PATCH",
      json: {
        description: "A coupon was redeemed.",
        schema: { type: "object", required: ["code"] },
        example: { code: "X" },
      },
    });
    expect(await changed.json()).toMatchObject({ description: "A coupon was redeemed.", example: { code: "X" } });
    // A new schema that the stored example does not match is refused until the example changes too.
    await expectProblem(
      await operator.call("/event-types/coupon.redeemed", {
        method: "PATCH",
        json: { schema: { type: "object", required: ["percent"] } },
      }),
      400,
    );
    const archived = await operator.call("/event-types/coupon.redeemed", { method: "PATCH", json: { archived: true } });
    expect(await archived.json()).toMatchObject({ archived: true });
    const listed = async (query: string) =>
      ((await (await alice.call(`/event-types${query}`)).json()) as { data: { type: string }[] }).data.map(
        (entry) => entry.type,
      );
    expect(await listed("")).not.toContain("coupon.redeemed");
    expect(await listed("?includeArchived=true")).toContain("coupon.redeemed");
    const restored = await operator.call("/event-types/coupon.redeemed", {
      method: "PATCH",
      json: { archived: false },
    });
    expect(await restored.json()).toMatchObject({ archived: false });
    await expectProblem(
      await operator.call("/event-types/integration.connected", { method: "PATCH", json: { archived: true } }),
      403,
    );
    await expectProblem(
      await operator.call("/event-types/no.such", { method: "PATCH", json: { archived: true } }),
      404,
    );
    await expectProblem(await alice.call("/event-types/no.such"), 404);
  });

  it("lets endpoints subscribe to custom types only when they exist and are not archived", async () => {
    const problem = await expectProblem(
      await alice.call(`/endpoints/${endpoints.other.id}`, {
        method: "PATCH",
        json: { eventTypes: ["order.unknown"] },
      }),
      400,
    );
    expect(problem.errors?.[0]).toMatchObject({ field: "eventTypes" });
  });
});

describe("POST /api/v1/events", () => {
  it("records the event and delivers it, signed, to the user's endpoints subscribed to its type", async () => {
    const response = await publish(alice, { eventType: "order.created", payload: ORDER });
    expect(response.status).toBe(202);
    const event = (await response.json()) as { id: string; eventType: string; userId: string; timestamp: string };
    expect(event).toMatchObject({
      eventType: "order.created",
      userId: alice.userId,
      replayed: false,
      idempotencyKey: null,
    });
    expect(event.id).toMatch(/^evt_/);

    await waitFor(async () => receivedFor(event.id).length >= 2);
    const toOrders = receivedFor(event.id, "orders");
    expect(toOrders).toHaveLength(1);
    expect(receivedFor(event.id, "everything")).toHaveLength(1);
    expect(receivedFor(event.id, "paid")).toHaveLength(0);
    const delivered = toOrders[0]!;
    expect(JSON.parse(delivered.body)).toEqual({
      event: {
        id: event.id,
        type: "order.created",
        timestamp: event.timestamp,
        userId: alice.userId,
        source: `api:${alice.userId}`,
        payload: ORDER,
      },
      webhook: { id: endpoints.orders.id, name: "Orders" },
    });
    expect(delivered.headers["x-webhook-event"]).toBe("order.created");
    expect(verifyWebhook(delivered.body, delivered.headers, [endpoints.orders.secret])).toMatchObject({ ok: true });
    // The delivery log has it like any other delivery.
    const log = (await (
      await alice.call(`/deliveries?eventType=order.created&endpointId=${endpoints.orders.id}`)
    ).json()) as {
      data: unknown[];
    };
    expect(log.data.length).toBeGreaterThan(0);
  });

  it.each([
    [
      "a payload that does not match the schema, naming every failing path",
      { eventType: "order.created", payload: { total: -1, currency: "GBP", items: [{}], extra: 1 } },
      400,
      ["payload.id", "payload.extra", "payload.total", "payload.currency", "payload.items.0.sku"],
    ],
    ["a payload that is not an object", { eventType: "order.created", payload: [1] }, 400, ["payload"]],
    ["an unknown field", { eventType: "order.created", payload: ORDER, priority: "high" }, 400, [null]],
    ["an unknown type", { eventType: "order.teleported", payload: ORDER }, 404, ["eventType"]],
    ["one of Echo's own types", { eventType: "integration.connected", payload: {} }, 403, ["eventType"]],
    ["an operational type", { eventType: "endpoint.disabled", payload: {} }, 403, ["eventType"]],
    [
      "another user's userId without an operator's key",
      { eventType: "order.created", payload: ORDER },
      403,
      ["userId"],
    ],
    ["a payload over 256 KB", { eventType: "order.paid", payload: { blob: "x".repeat(300 * 1024) } }, 413, ["payload"]],
  ])("refuses %s, and writes nothing", async (name, body, status, fields) => {
    const input = name.startsWith("another user") ? { ...body, userId: bob.userId } : body;
    const before = await written();
    const problem = await expectProblem(await publish(alice, input), status);
    expect(problem.errors?.map((error) => error.field)).toEqual(expect.arrayContaining(fields));
    expect(await written()).toEqual(before);
  });

  it("refuses an archived type with 409, and publishes it again once restored", async () => {
    await operator.call("/event-types", {
      method: "POST",
      json: { name: "order.archived_soon", description: "Soon archived.", schema: { type: "object" }, example: {} },
    });
    expect((await publish(alice, { eventType: "order.archived_soon", payload: {} })).status).toBe(202);
    await operator.call("/event-types/order.archived_soon", { method: "PATCH", json: { archived: true } });
    const before = await written();
    const problem = await expectProblem(await publish(alice, { eventType: "order.archived_soon", payload: {} }), 409);
    expect(problem.detail).toMatch(/archived/);
    expect(await written()).toEqual(before);
    await operator.call("/event-types/order.archived_soon", { method: "PATCH", json: { archived: false } });
    expect((await publish(alice, { eventType: "order.archived_soon", payload: {} })).status).toBe(202);
  });

  it("checks against a schema changed by another process since this one last read it", async () => {
    await operator.call("/event-types", {
      method: "POST",
      json: { name: "stock.low", description: "Stock is low.", schema: { type: "object" }, example: {} },
    });
    expect((await publish(alice, { eventType: "stock.low", payload: { sku: 1 } })).status).toBe(202);
    // Straight in the database, as another Echo process would: the server's compiled schema is now stale.
    await prisma.eventType.update({
      where: { name: "stock.low" },
      data: { schema: { type: "object", properties: { sku: { type: "string" } } } },
    });
    const problem = await expectProblem(await publish(alice, { eventType: "stock.low", payload: { sku: 1 } }), 400);
    expect(problem.errors).toEqual([{ field: "payload.sku", message: "Must be string" }]);
    await prisma.eventType.update({ where: { name: "stock.low" }, data: { archivedAt: new Date() } });
    await expectProblem(await publish(alice, { eventType: "stock.low", payload: { sku: "x" } }), 409);
  });

  it("lets an operator publish to any user's endpoints, and says so when the user does not exist", async () => {
    const response = await publish(operator, { eventType: "order.created", payload: ORDER, userId: alice.userId });
    expect(response.status).toBe(202);
    const event = (await response.json()) as { id: string; userId: string };
    expect(event.userId).toBe(alice.userId);
    await waitFor(async () => receivedFor(event.id, "orders").length === 1);
    await expectProblem(
      await publish(operator, { eventType: "order.created", payload: ORDER, userId: "cm_nobody" }),
      404,
    );
  });

  it("needs a personal API key: an OAuth token is refused", async () => {
    const app = await oauthAppToken(prisma, echo.url, { userId: alice.userId, scopes: ["integration"] });
    expect(
      (await app.call("/events", { method: "POST", json: { eventType: "order.created", payload: ORDER } })).status,
    ).toBe(401);
  });
});

describe("idempotency", () => {
  it("answers the same key and request with the same event, delivered once", async () => {
    const key = `order-${Date.now()}`;
    const first = await publish(alice, { eventType: "order.created", payload: ORDER }, { "Idempotency-Key": key });
    const firstEvent = (await first.json()) as { id: string; replayed: boolean };
    expect(first.status).toBe(202);
    expect(firstEvent.replayed).toBe(false);
    await waitFor(async () => receivedFor(firstEvent.id, "orders").length === 1);

    // Keys in another order are the same request; the field works like the header.
    const again = await publish(alice, {
      eventType: "order.created",
      payload: { currency: "EUR", total: 42.5, id: "ord_1" },
      idempotencyKey: key,
    });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toMatchObject({ id: firstEvent.id, replayed: true, idempotencyKey: key });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receivedFor(firstEvent.id, "orders")).toHaveLength(1);
    expect(await prisma.webhookEvent.count({ where: { id: firstEvent.id.slice(4) } })).toBe(1);
  });

  it("refuses the same key with a different request (409), and writes nothing", async () => {
    const key = `conflict-${Date.now()}`;
    expect(
      (await publish(alice, { eventType: "order.created", payload: ORDER }, { "Idempotency-Key": key })).status,
    ).toBe(202);
    const before = await written();
    const problem = await expectProblem(
      await publish(alice, { eventType: "order.created", payload: { ...ORDER, total: 1 } }, { "Idempotency-Key": key }),
      409,
    );
    expect(problem.errors?.[0]?.field).toBe("idempotencyKey");
    expect(await written()).toEqual(before);
  });

  it("keeps keys per publisher: Bob's same key is Bob's own event", async () => {
    const key = `shared-${Date.now()}`;
    const ofAlice = (await (
      await publish(alice, { eventType: "order.paid", payload: {} }, { "Idempotency-Key": key })
    ).json()) as {
      id: string;
    };
    const ofBob = await publish(bob, { eventType: "order.paid", payload: {} }, { "Idempotency-Key": key });
    expect(ofBob.status).toBe(202);
    expect(((await ofBob.json()) as { id: string }).id).not.toBe(ofAlice.id);
  });

  it("makes one event of many concurrent publishes with one key", async () => {
    const key = `race-${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        publish(alice, { eventType: "order.created", payload: ORDER }, { "Idempotency-Key": key }).then(
          async (response) => ({ status: response.status, body: (await response.json()) as { id: string } }),
        ),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    await waitFor(async () => receivedFor(answers[0]!.body.id, "orders").length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receivedFor(answers[0]!.body.id, "orders")).toHaveLength(1);
  });

  it("honours a key for 24 hours only, then publishes anew, and deletes expired keys", async () => {
    const key = `expiring-${Date.now()}`;
    const first = (await (
      await publish(alice, { eventType: "order.paid", payload: {} }, { "Idempotency-Key": key })
    ).json()) as {
      id: string;
    };
    const stored = await prisma.publishIdempotencyKey.findUniqueOrThrow({
      where: { publisherId_key: { publisherId: alice.userId, key } },
    });
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBe(24 * 3_600_000);
    await prisma.publishIdempotencyKey.update({
      where: { publisherId_key: { publisherId: alice.userId, key } },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    // Even a different request is welcome once the key expired: it is a new event.
    const second = await publish(alice, { eventType: "order.paid", payload: { n: 2 } }, { "Idempotency-Key": key });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { id: string }).id).not.toBe(first.id);

    await prisma.publishIdempotencyKey.update({
      where: { publisherId_key: { publisherId: alice.userId, key } },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    expect(await deleteExpiredIdempotencyKeys(prisma)).toBeGreaterThanOrEqual(1);
    expect(await prisma.publishIdempotencyKey.count({ where: { expiresAt: { lte: new Date() } } })).toBe(0);
  });

  it.each([
    ["differs between the header and the field", { "Idempotency-Key": "a" }, { idempotencyKey: "b" }],
    ["has a space in it", { "Idempotency-Key": "not a key" }, {}],
  ])("refuses a key that %s", async (_name, headers, field) => {
    const before = await written();
    await expectProblem(await publish(alice, { eventType: "order.paid", payload: {}, ...field }, headers), 400);
    expect(await written()).toEqual(before);
  });
});

describe("POST /api/v1/events/batch", () => {
  const batch = (caller: { call: ApiCall }, events: unknown[], headers: Record<string, string> = {}) =>
    caller.call("/events/batch", { method: "POST", json: { events }, headers });

  it("publishes up to 100 events in one call, answering in the order sent", async () => {
    const key = `batch-${Date.now()}`;
    const response = await batch(alice, [
      { eventType: "order.created", payload: { ...ORDER, id: "ord_b1" } },
      { eventType: "order.paid", payload: { id: "ord_b1" }, idempotencyKey: key },
      // The same key and request again in one batch: the same event.
      { eventType: "order.paid", payload: { id: "ord_b1" }, idempotencyKey: key },
    ]);
    expect(response.status).toBe(202);
    const { data } = (await response.json()) as { data: { id: string; eventType: string; replayed: boolean }[] };
    expect(data.map((event) => [event.eventType, event.replayed])).toEqual([
      ["order.created", false],
      ["order.paid", false],
      ["order.paid", true],
    ]);
    expect(data[2]!.id).toBe(data[1]!.id);
    await waitFor(
      async () => receivedFor(data[0]!.id, "orders").length === 1 && receivedFor(data[1]!.id, "paid").length === 1,
    );
  });

  it("publishes nothing when one event is refused, naming every failing item", async () => {
    const before = await written();
    const problem = await expectProblem(
      await batch(alice, [
        { eventType: "order.created", payload: ORDER },
        { eventType: "order.created", payload: { id: "ord_2" } },
        { eventType: "order.nowhere", payload: {} },
      ]),
      400,
    );
    expect(problem.errors).toEqual([
      { field: "events.1.payload.total", message: "Required" },
      { field: "events.2.eventType", message: expect.stringMatching(/No event type order.nowhere/) },
    ]);
    expect(await written()).toEqual(before);
  });

  it("refuses more than 100 events, none at all, and an Idempotency-Key header", async () => {
    const before = await written();
    const many = Array.from({ length: 101 }, () => ({ eventType: "order.paid", payload: {} }));
    expect((await expectProblem(await batch(alice, many), 400)).errors?.[0]?.field).toBe("events");
    await expectProblem(await batch(alice, []), 400);
    await expectProblem(
      await batch(alice, [{ eventType: "order.paid", payload: {} }], { "Idempotency-Key": "k" }),
      400,
    );
    expect(await written()).toEqual(before);
  });
});
