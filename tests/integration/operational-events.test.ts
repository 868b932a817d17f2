import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { EVENT_CATALOG } from "~/lib/events/catalog";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn } from "~/services/jobs/task-catalog.server";
import { ServiceError } from "~/services/service-error.server";
import {
  EndpointCreateSchema,
  createEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
} from "~/services/webhooks/endpoints.server";
import { startOutboxSweeper } from "~/services/webhooks/outbox-dispatcher.server";
import { publishEvent } from "~/services/webhooks/publish.server";
import { recordAttempts, type AttemptRecord } from "~/services/webhooks/delivery-queue.server";
import { endpointDisabledEvent } from "~/services/webhooks/operational-events.server";
import { createOAuthApp, createUser } from "../support/fixtures/webhooks";
import { waitFor } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// The operational events on the embedded engine: raised by the delivery queue's record (and its
// claim, for abandoned deliveries) and by the endpoint services, in the transaction of the change,
// delivered only to the owner's endpoints that name them, and never about their own delivery.
let engine: EmbeddedTaskEngine;
let stopOutboxSweeper: () => Promise<void>;
const receivers: WebhookReceiver[] = [];

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

beforeAll(async () => {
  await prisma.eventType.create({
    data: {
      name: "order.created",
      description: "An order was placed.",
      schema: { type: "object", required: ["id"] },
      example: { id: "ord_1" },
    },
  });
  const catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
  engine = new EmbeddedTaskEngine(catalog, {
    db: prisma,
    databaseUrl: process.env.DATABASE_URL as string,
    logger: pino({ level: "silent" }),
    leaseMs: 2_000,
    pollIntervalMs: 50,
  });
  await engine.start();
  // As in every worker (server/worker.ts): it hands over what no request did (the claim's events).
  stopOutboxSweeper = startOutboxSweeper({ intervalMs: 200 });
});

afterAll(async () => {
  await stopOutboxSweeper();
  await engine.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

const endpoint = (userId: string, input: Record<string, unknown>) =>
  createEndpoint(
    { userId },
    EndpointCreateSchema.parse({ name: "Receiver", retryBaseDelayMs: 1_000, timeoutMs: 5_000, ...input }),
  );

type Envelope = { event: { id: string; type: string; userId: string; payload: Record<string, unknown> } };
const envelopes = (inbox: WebhookReceiver) => inbox.received.map((request) => JSON.parse(request.body) as Envelope);

function eventsOf(userId: string, type: string) {
  return prisma.webhookEvent.findMany({ where: { userId, type }, orderBy: { createdAt: "asc" } });
}

async function settled(eventId: string) {
  return waitFor(async () => {
    const open = await prisma.webhookDelivery.count({
      where: { eventId, status: { in: ["PENDING", "RETRYING", "SENDING"] } },
    });
    const all = await prisma.webhookDelivery.count({ where: { eventId } });
    return all > 0 && open === 0;
  });
}

/** Lets the worker and the outbox sweep do anything they still would, so "nothing more" means something. */
const quietly = () => new Promise((resolve) => setTimeout(resolve, 1_500));

describe("delivery.exhausted", () => {
  it("tells the owner's monitoring endpoint, once, when a delivery fails for good; 'all events' endpoints are not told", async () => {
    const user = await createUser(prisma);
    const [refusing, monitor, everything] = await Promise.all([
      receiver({ status: 400, body: "no" }),
      receiver(),
      receiver(),
    ]);
    const failing = await endpoint(user.id, { name: "Orders", url: refusing.url, eventTypes: ["order.created"] });
    await endpoint(user.id, { name: "Monitor", url: monitor.url, eventTypes: ["delivery.exhausted"] });
    await endpoint(user.id, { name: "Everything", url: everything.url });

    const { eventId } = await publishEvent(user.id, "order.created", { id: "ord_9" });
    await monitor.waitForCount(1);
    await quietly();

    const [exhausted] = envelopes(monitor);
    expect(envelopes(monitor)).toHaveLength(1);
    const failed = await prisma.webhookDelivery.findUniqueOrThrow({
      where: { eventId_endpointId: { eventId, endpointId: failing.id } },
    });
    expect(exhausted!.event).toMatchObject({ type: "delivery.exhausted", userId: user.id });
    expect(exhausted!.event.payload).toEqual({
      event: "delivery.exhausted",
      user_id: user.id,
      endpoint: { id: failing.id, name: "Orders", url: refusing.url },
      delivery: {
        id: failed.id,
        event_id: `evt_${eventId}`,
        event_type: "order.created",
        attempts: 1,
        last_status_code: 400,
        last_error: "HTTP 400 (not retried)",
      },
      timestamp: expect.any(String),
    });
    expect(() => EVENT_CATALOG["delivery.exhausted"].schema.parse(exhausted!.event.payload)).not.toThrow();
    expect(envelopes(everything).map((envelope) => envelope.event.type)).toEqual(["order.created"]);
    expect(await eventsOf(user.id, "delivery.exhausted")).toHaveLength(1);
  });

  it("raises nothing while deliveries succeed", async () => {
    const user = await createUser(prisma);
    const [inbox, monitor] = await Promise.all([receiver(), receiver()]);
    await endpoint(user.id, { url: inbox.url, eventTypes: ["order.created"] });
    await endpoint(user.id, { url: monitor.url, eventTypes: ["delivery.exhausted", "endpoint.disabled"] });
    const published = await Promise.all(
      Array.from({ length: 5 }, (_, i) => publishEvent(user.id, "order.created", { id: `ord_${i}` })),
    );
    await inbox.waitForCount(5);
    for (const { eventId } of published) await settled(eventId);
    await quietly();
    expect(monitor.received).toHaveLength(0);
    expect(await prisma.webhookEvent.count({ where: { userId: user.id } })).toBe(5);
  });

  it("is raised in the claim's transaction for a delivery the engine abandoned after repeated crashes", async () => {
    const user = await createUser(prisma);
    const monitor = await receiver();
    const target = await endpoint(user.id, { name: "Crashy", url: "http://127.0.0.1:9/never", eventTypes: [] });
    await endpoint(user.id, { url: monitor.url, eventTypes: ["delivery.exhausted"] });
    const { eventId } = await publishEvent(
      user.id,
      "order.created",
      { id: "ord_crash" },
      // Delivered by hand below, as a crash-looping worker would have left it.
      { fanOut: false },
    );
    const delivery = await prisma.webhookDelivery.create({
      data: {
        eventId,
        endpointId: target.id,
        eventType: "order.created",
        url: target.url,
        body: "{}",
        maxAttempts: 2,
        attemptCount: 5,
        status: "SENDING",
        lockedUntil: new Date(Date.now() - 1_000),
        nextAttemptAt: new Date(Date.now() - 1_000),
      },
    });
    await monitor.waitForCount(1);
    const abandoned = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(abandoned).toMatchObject({
      status: "FAILED",
      lastError: expect.stringMatching(/^Abandoned by the job engine/),
    });
    const [envelope] = envelopes(monitor);
    expect(envelope!.event.type).toBe("delivery.exhausted");
    expect(EVENT_CATALOG["delivery.exhausted"].schema.parse(envelope!.event.payload)).toMatchObject({
      endpoint: { id: target.id, name: "Crashy" },
      delivery: { id: delivery.id, event_id: `evt_${eventId}`, event_type: "order.created", attempts: 5 },
    });
  });
});

describe("endpoint.disabled", () => {
  it("is raised once when Echo disables an endpoint (410 Gone), beside the delivery's delivery.exhausted", async () => {
    const user = await createUser(prisma);
    const [gone, monitor] = await Promise.all([receiver({ status: 410 }), receiver()]);
    const goneEndpoint = await endpoint(user.id, { name: "Gone", url: gone.url, eventTypes: ["order.created"] });
    await endpoint(user.id, { url: monitor.url, eventTypes: ["endpoint.disabled", "delivery.exhausted"] });

    await publishEvent(user.id, "order.created", { id: "ord_1" });
    await monitor.waitForCount(2);
    await quietly();
    // More events for it afterwards are not even queued for a disabled endpoint: no more operational events.
    await publishEvent(user.id, "order.created", { id: "ord_2" });
    await quietly();

    const types = envelopes(monitor).map((envelope) => envelope.event.type);
    expect(types.sort()).toEqual(["delivery.exhausted", "endpoint.disabled"]);
    const disabled = envelopes(monitor).find((envelope) => envelope.event.type === "endpoint.disabled")!;
    expect(disabled.event.payload).toMatchObject({
      endpoint: { id: goneEndpoint.id, name: "Gone" },
      disabled_by: "echo",
      reason: expect.stringMatching(/410 Gone/),
    });
    expect(await eventsOf(user.id, "endpoint.disabled")).toHaveLength(1);
    expect(gone.received).toHaveLength(1);
    expect(
      (await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: goneEndpoint.id } })).disabledAt,
    ).not.toBeNull();
  });

  it("does not feed a loop: an endpoint that fails the operational events it receives raises no more of them", async () => {
    const user = await createUser(prisma);
    const [refusing, monitorGone] = await Promise.all([receiver({ status: 400 }), receiver({ status: 410 })]);
    await endpoint(user.id, { url: refusing.url, eventTypes: ["order.created"] });
    const monitor = await endpoint(user.id, {
      name: "Monitor that is gone",
      url: monitorGone.url,
      eventTypes: ["delivery.exhausted", "endpoint.disabled"],
    });

    await publishEvent(user.id, "order.created", { id: "ord_loop" });
    await monitorGone.waitForCount(1);
    await waitFor(
      async () => (await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: monitor.id } })).disabledAt,
    );
    await quietly();

    // The monitor got the one delivery.exhausted about the order; failing it disabled the monitor, silently.
    expect(monitorGone.received).toHaveLength(1);
    expect(await eventsOf(user.id, "delivery.exhausted")).toHaveLength(1);
    expect(await eventsOf(user.id, "endpoint.disabled")).toHaveLength(0);
  });
});

describe("the record of a batch of attempts", () => {
  it("keeps an endpoint disabled, with one endpoint.disabled, when a later attempt of the same batch only failed", async () => {
    const user = await createUser(prisma);
    const target = await endpoint(user.id, { name: "Batched", url: "https://batched.example.com/hook" });
    const { eventId } = await publishEvent(user.id, "order.created", { id: "ord_b" }, { fanOut: false });
    const { eventId: otherEventId } = await publishEvent(user.id, "order.created", { id: "ord_c" }, { fanOut: false });
    const deliveries = await Promise.all(
      [eventId, otherEventId].map((id) =>
        prisma.webhookDelivery.create({
          data: {
            eventId: id,
            endpointId: target.id,
            eventType: "order.created",
            url: target.url,
            body: "{}",
            maxAttempts: 8,
            attemptCount: 1,
            status: "SENDING",
            lockedUntil: new Date(Date.now() + 60_000),
          },
        }),
      ),
    );
    const at = new Date();
    const record = (deliveryId: string, responseStatus: number, health: AttemptRecord["health"]): AttemptRecord => ({
      deliveryId,
      attemptNumber: 1,
      startedAt: at,
      durationMs: 5,
      requestUrl: target.url,
      requestHeaders: {},
      responseStatus,
      responseHeaders: {},
      responseBody: "",
      error: `HTTP ${responseStatus}`,
      nextAttemptAt: responseStatus === 410 ? null : new Date(at.getTime() + 5_000),
      status: responseStatus === 410 ? "FAILED" : "RETRYING",
      completedAt: responseStatus === 410 ? at : null,
      health,
    });
    const reason = "The receiver answered 410 Gone.";
    const subject = { id: target.id, name: target.name, url: target.url, ownerId: user.id };
    // The 410 first, then a 503 judged (before the 410 was recorded) as "failing, not disabled".
    const results = await recordAttempts(prisma, [
      record(deliveries[0]!.id, 410, {
        kind: "failing",
        failingSince: at,
        disable: { at, reason },
        table: "endpoint",
        id: target.id,
        disabledEvent: endpointDisabledEvent(subject, { reason, by: "echo", at }),
      }),
      record(deliveries[1]!.id, 503, {
        kind: "failing",
        failingSince: at,
        disable: null,
        table: "endpoint",
        id: target.id,
      }),
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    const after = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: target.id } });
    expect(after.disabledAt).not.toBeNull();
    expect(after.disabledReason).toBe(reason);
    expect(await eventsOf(user.id, "endpoint.disabled")).toHaveLength(1);
  });
});

describe("raised by the endpoint services", () => {
  it("endpoint.disabled and endpoint.enabled when the owner switches an endpoint off and on, secret.rotated on rotation", async () => {
    const user = await createUser(prisma);
    const monitor = await receiver();
    const watched = await endpoint(user.id, { name: "Watched", url: "https://watched.example.com/hook" });
    await endpoint(user.id, {
      name: "Monitor",
      url: monitor.url,
      eventTypes: ["endpoint.disabled", "endpoint.enabled", "secret.rotated"],
    });

    await updateEndpoint({ userId: user.id }, watched.id, { enabled: false });
    await updateEndpoint({ userId: user.id }, watched.id, { name: "Still off" });
    await updateEndpoint({ userId: user.id }, watched.id, { enabled: true });
    const rotated = await rotateEndpointSecret({ userId: user.id }, watched.id, undefined);
    await monitor.waitForCount(3);
    await quietly();

    const byType = Object.fromEntries(
      envelopes(monitor).map((envelope) => [envelope.event.type, envelope.event.payload]),
    );
    expect(Object.keys(byType).sort()).toEqual(["endpoint.disabled", "endpoint.enabled", "secret.rotated"]);
    expect(byType["endpoint.disabled"]).toMatchObject({ disabled_by: "owner", endpoint: { id: watched.id } });
    expect(byType["endpoint.enabled"]).toMatchObject({
      reason: "Its owner switched it on.",
      endpoint: { name: "Still off" },
    });
    expect(byType["secret.rotated"]).toMatchObject({
      endpoint: { id: watched.id },
      previous_secret_expires_at: rotated.previousSecretExpiresAt.toISOString(),
    });
  });

  it("endpoint.enabled when the owner saves an endpoint Echo had disabled", async () => {
    const user = await createUser(prisma);
    const monitor = await receiver();
    const watched = await endpoint(user.id, { url: "https://watched.example.com/hook" });
    await prisma.webhookEndpoint.update({
      where: { id: watched.id },
      data: { disabledAt: new Date(), disabledReason: "Every delivery failed." },
    });
    await endpoint(user.id, { url: monitor.url, eventTypes: ["endpoint.enabled"] });
    await updateEndpoint({ userId: user.id }, watched.id, { timeoutMs: 10_000 });
    await monitor.waitForCount(1);
    expect(envelopes(monitor)[0]!.event.payload).toMatchObject({
      reason: "Its owner saved its settings after Echo had disabled it.",
    });
  });

  it("go only to the owner's own endpoints: an OAuth app's endpoint cannot subscribe to them", async () => {
    const user = await createUser(prisma);
    const app = await createOAuthApp(prisma, { ownerId: user.id, grantUserId: user.id, webhookUrl: null });
    const refused = await createEndpoint(
      { userId: user.id, oauthClientId: app.id },
      EndpointCreateSchema.parse({
        name: "App's",
        url: "https://app.example.com/hook",
        eventTypes: ["secret.rotated"],
      }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({ status: 400, field: "eventTypes" });

    const inbox = await receiver();
    const appEndpoint = await createEndpoint(
      { userId: user.id, oauthClientId: app.id },
      EndpointCreateSchema.parse({ name: "App's, everything", url: inbox.url }),
    );
    await rotateEndpointSecret({ userId: user.id }, appEndpoint.id, undefined);
    await quietly();
    expect(inbox.received).toHaveLength(0);
  });
});
