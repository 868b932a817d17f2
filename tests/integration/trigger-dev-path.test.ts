import path from "node:path";
import { runInMockTaskContext } from "@trigger.dev/core/v3/test";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { globalIdempotencyKey as globalKey, pointEchoAtTriggerDevStandIn } from "../support/stand-ins/trigger-dev";
import { waitFor } from "../support/wait";

// Echo with TRIGGER_SECRET_KEY set, against a stand-in of Trigger.dev's API; every app module is
// imported after the environment names it.
const triggerDev = await pointEchoAtTriggerDevStandIn();

const { prisma } = await import("~/db.server");
const { usesTriggerDev } = await import("~/services/jobs.server");
const { loadTaskCatalog } = await import("~/services/jobs/task-catalog.server");
const { TRIGGER_DEV_HANDOVER_TIMEOUT_MS, dispatchPendingEvents, startOutboxSweeper } =
  await import("~/services/webhooks/outbox-dispatcher.server");
const { triggerOAuthIntegrationWebhook } = await import("~/services/webhooks/integration-events.server");
const { EndpointCreateSchema, createEndpoint } = await import("~/services/webhooks/endpoints.server");
const { connectIntegration, createIntegrationDefinition, createOAuthApp, createUser } =
  await import("../support/fixtures/webhooks");
const { publishEvents } = await import("~/services/webhooks/publish.server");
const { attemptWebhookDelivery, markDeliveryAbandoned } = await import("~/services/webhooks/deliver-webhook.server");
const { fanOutEvent } = await import("~/services/webhooks/integration-fanout.server");
const { startWebhookReceiver } = await import("../support/webhook-receiver");
const { getRunDetail } = await import("~/services/runs/run-detail.server");
const { replayRun } = await import("~/services/runs/run-actions.server");

afterEach(() => {
  triggerDev.behaviour.failWith = null;
  triggerDev.release();
});
afterAll(() => triggerDev.close());

async function connectedEvent() {
  const user = await createUser(prisma);
  const owner = await createUser(prisma);
  const definition = await createIntegrationDefinition(prisma);
  await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: "https://a.example/hook" });
  const { account, eventId } = await connectIntegration(prisma, { userId: user.id, definition });
  return { user, account, eventId };
}

function itemsFor(eventId: string) {
  return triggerDev.triggered.filter((item) => (item.payload as { eventId?: string }).eventId === eventId);
}

function event(id: string) {
  return prisma.webhookEvent.findUniqueOrThrow({
    where: { id },
    select: {
      dispatchedAt: true,
      dispatchAttempts: true,
      lastDispatchError: true,
      payload: true,
      triggerRunId: true,
      triggerBatchId: true,
    },
  });
}

describe("Trigger.dev mode (TRIGGER_SECRET_KEY set)", () => {
  it("is the mode this file runs in", () => {
    expect(usesTriggerDev).toBe(true);
  });

  it("hands a connected integration's event to oauth-integration-webhook-delivery with a global key, and marks it dispatched", async () => {
    const { user, account, eventId } = await connectedEvent();
    const requestsBefore = triggerDev.requests.length;

    await triggerOAuthIntegrationWebhook(account.id, user.id);

    expect(itemsFor(eventId)).toEqual([
      expect.objectContaining({
        task: "oauth-integration-webhook-delivery",
        payload: { eventId },
        idempotencyKey: globalKey(`integration.connected:${eventId}`),
        idempotencyKeyOptions: { key: `integration.connected:${eventId}`, scope: "global" },
        cached: false,
      }),
    ]);
    // One event, one `trigger`: a single request, whose answer names the run.
    expect(triggerDev.requests.slice(requestsBefore)).toEqual([
      expect.objectContaining({ path: "/api/v1/tasks/oauth-integration-webhook-delivery/trigger", status: 200 }),
    ]);
    expect(triggerDev.requests.every((r) => r.authorization === `Bearer ${triggerDev.secretKey}`)).toBe(true);
    expect(await event(eventId)).toMatchObject({ dispatchAttempts: 1, lastDispatchError: null });
    // The run's id is kept on the event, for the runs console's link to it.
    expect(await event(eventId)).toMatchObject({ triggerRunId: itemsFor(eventId)[0]!.runId, triggerBatchId: null });
    expect((await event(eventId)).dispatchedAt).toBeInstanceOf(Date);
    // Nothing went to the embedded engine.
    expect(await prisma.taskRun.count()).toBe(0);

    // Handed over once: a second pass finds nothing to trigger.
    await expect(dispatchPendingEvents({})).resolves.toBe(0);
    expect(itemsFor(eventId)).toHaveLength(1);
  });

  it("keeps the event, with the error and the attempt, while the API answers 503, and hands it over once it is back", async () => {
    const { user, account, eventId } = await connectedEvent();
    const payloadBefore = (await event(eventId)).payload;
    triggerDev.behaviour.failWith = 503;

    const started = Date.now();
    await triggerOAuthIntegrationWebhook(account.id, user.id); // never throws into the caller
    const tookMs = Date.now() - started;

    const waiting = await event(eventId);
    expect(waiting).toMatchObject({ dispatchedAt: null, dispatchAttempts: 1, payload: payloadBefore });
    expect(waiting.lastDispatchError).toMatch(/503/);
    // The request that connected the integration is not held up by the outage.
    expect(tookMs).toBeLessThan(3_000);
    expect(itemsFor(eventId)).toEqual([]);
    expect(await prisma.integrationAccount.count({ where: { id: account.id } })).toBe(1);

    const stopSweeper = startOutboxSweeper({ intervalMs: 50 });
    try {
      // The sweep keeps trying (and counting) while the API is down...
      await waitFor(async () => (await event(eventId)).dispatchAttempts >= 3);
      expect((await event(eventId)).dispatchedAt).toBeNull();

      // ...and hands the event over once it is back.
      triggerDev.behaviour.failWith = null;
      const handed = await waitFor(async () => {
        const row = await event(eventId);
        return row.dispatchedAt ? row : null;
      });
      expect(handed.lastDispatchError).toBeNull();
    } finally {
      await stopSweeper();
    }
    expect(itemsFor(eventId)).toEqual([
      expect.objectContaining({
        task: "oauth-integration-webhook-delivery",
        payload: { eventId },
        idempotencyKey: globalKey(`integration.connected:${eventId}`),
      }),
    ]);
    expect(await prisma.taskRun.count()).toBe(0);
  });

  it("gives up on an API that never answers within the transaction's time, then hands the event over exactly once", async () => {
    const { user, account, eventId } = await connectedEvent();
    triggerDev.behaviour.stall = true;

    const started = Date.now();
    await triggerOAuthIntegrationWebhook(account.id, user.id);
    const tookMs = Date.now() - started;

    // Bounded by the hand-over's deadline, not by the SDK's retries or fetch's five-minute timeout.
    expect(tookMs).toBeLessThan(TRIGGER_DEV_HANDOVER_TIMEOUT_MS + 3_000);
    const waiting = await event(eventId);
    expect(waiting).toMatchObject({ dispatchedAt: null, dispatchAttempts: 1 });
    expect(waiting.lastDispatchError).toMatch(/did not answer/);

    // The API answers the held request late (the run is created after all), and a sweep triggers again:
    // the global idempotency key makes that the same run.
    triggerDev.release();
    await waitFor(async () => itemsFor(eventId).length >= 1);
    await dispatchPendingEvents({});
    expect((await event(eventId)).dispatchedAt).toBeInstanceOf(Date);
    expect(itemsFor(eventId).map((item) => item.cached)).toEqual([false, true]);
    const key = globalKey(`integration.connected:${eventId}`);
    expect(triggerDev.runs().filter((run) => run.idempotencyKey === key)).toHaveLength(1);
  });

  it("fans an event out as one webhook-delivery run per recipient, keyed delivery:<id>, with the app or endpoint as concurrency key", async () => {
    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    const definition = await createIntegrationDefinition(prisma);
    const apps = [
      await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: "https://a.example/hook" }),
      await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: "https://b.example/hook" }),
    ];
    const endpoint = await createEndpoint(
      { userId: user.id },
      EndpointCreateSchema.parse({
        name: "Mine",
        url: "https://c.example/hook",
        eventTypes: ["integration.connected"],
      }),
    );
    const { eventId } = await connectIntegration(prisma, { userId: user.id, definition });

    // The fan-out task itself, as Trigger.dev would run it.
    const catalog = await loadTaskCatalog([path.resolve("trigger/oauth-integration-webhook-delivery.ts")]);
    const fanOut = (runId: string) =>
      runInMockTaskContext(
        ({ ctx }) =>
          catalog
            .get("oauth-integration-webhook-delivery")!
            .run({ eventId }, { ctx, signal: new AbortController().signal }),
        { ctx: { run: { id: runId } } },
      );
    await expect(fanOut("run_fanout_1")).resolves.toEqual({ deliveries: 3 });

    const deliveries = await prisma.webhookDelivery.findMany({
      where: { eventId },
      select: { id: true, oauthClientId: true, endpointId: true },
    });
    expect(deliveries).toHaveLength(3);
    const sent = triggerDev.triggered.filter((item) =>
      deliveries.some((d) => d.id === (item.payload as { deliveryId: string }).deliveryId),
    );
    expect(sent).toHaveLength(3);
    expect(
      sent.map((item) => ({ ...item, batchId: undefined, runId: undefined, index: undefined })).sort(byKey),
    ).toEqual(
      deliveries
        .map((delivery) => ({
          batchId: undefined,
          runId: undefined,
          index: undefined,
          task: "webhook-delivery",
          payload: { deliveryId: delivery.id },
          // Global, not the run-scoped default: a key that included the fan-out's run id would not dedupe.
          idempotencyKey: globalKey(`delivery:${delivery.id}`),
          idempotencyKeyOptions: { key: `delivery:${delivery.id}`, scope: "global" },
          concurrencyKey: delivery.oauthClientId ?? delivery.endpointId,
          delay: undefined,
          cached: false,
        }))
        .sort(byKey),
    );
    expect(deliveries.map((d) => d.oauthClientId ?? d.endpointId).sort()).toEqual(
      [...apps.map((app) => app.id), endpoint.id].sort(),
    );
    // Three runs in one batch: Trigger.dev's batch API answers with the batch's id, kept on each delivery.
    const batchIds = new Set(sent.map((item) => item.batchId));
    expect(batchIds.size).toBe(1);
    expect(
      await prisma.webhookDelivery.findMany({
        where: { eventId },
        select: { triggerRunId: true, triggerBatchId: true },
      }),
    ).toEqual(deliveries.map(() => ({ triggerRunId: null, triggerBatchId: [...batchIds][0] })));

    // A second fan-out of the same event (another run) creates no delivery and no run.
    await expect(fanOut("run_fanout_2")).resolves.toEqual({ deliveries: 3 });
    expect(await prisma.webhookDelivery.count({ where: { eventId } })).toBe(3);
    const keys = deliveries.map((delivery) => globalKey(`delivery:${delivery.id}`));
    expect(triggerDev.runs().filter((run) => keys.includes(run.idempotencyKey))).toHaveLength(3);

    expect(await prisma.taskRun.count()).toBe(0);
  });
});

function byKey(a: { idempotencyKey?: string }, b: { idempotencyKey?: string }) {
  return (a.idempotencyKey ?? "").localeCompare(b.idempotencyKey ?? "");
}

describe("Trigger.dev mode: published and operational events", () => {
  async function orderType() {
    await prisma.eventType.upsert({
      where: { name: "order.created" },
      create: { name: "order.created", description: "An order.", schema: { type: "object" }, example: {} },
      update: {},
    });
  }

  it("hands a published event to webhook-event-fanout with a global key; while the API is down the event waits in the outbox, recorded", async () => {
    await orderType();
    const user = await createUser(prisma);
    const [published] = await publishEvents({ publisherId: user.id }, [
      { eventType: "order.created", payload: { id: 1 } },
    ]);
    expect(itemsFor(published!.eventId)).toEqual([
      expect.objectContaining({
        task: "webhook-event-fanout",
        payload: { eventId: published!.eventId },
        idempotencyKey: globalKey(`order.created:${published!.eventId}`),
      }),
    ]);
    expect(await event(published!.eventId)).toMatchObject({ dispatchAttempts: 1, lastDispatchError: null });

    triggerDev.behaviour.failWith = 503;
    const [waiting] = await publishEvents({ publisherId: user.id }, [
      { eventType: "order.created", payload: { id: 2 } },
    ]);
    expect(await event(waiting!.eventId)).toMatchObject({
      dispatchedAt: null,
      dispatchAttempts: 1,
      lastDispatchError: expect.stringMatching(/503/),
      payload: { id: 2 },
    });
    triggerDev.behaviour.failWith = null;
    await dispatchPendingEvents({});
    expect(itemsFor(waiting!.eventId)).toHaveLength(1);
  });

  it("the webhook-delivery task's attempt raises endpoint.disabled and delivery.exhausted on 410 Gone, in its record, and hands them over", async () => {
    await orderType();
    const user = await createUser(prisma);
    const gone = await startWebhookReceiver({ status: 410 });
    try {
      const goneEndpoint = await createEndpoint(
        { userId: user.id },
        EndpointCreateSchema.parse({ name: "Gone", url: gone.url, eventTypes: ["order.created"] }),
      );
      await createEndpoint(
        { userId: user.id },
        EndpointCreateSchema.parse({
          name: "Monitor",
          url: "https://monitor.example.com/hook",
          eventTypes: ["endpoint.disabled", "delivery.exhausted"],
        }),
      );
      const [published] = await publishEvents({ publisherId: user.id }, [{ eventType: "order.created", payload: {} }]);
      await fanOutEvent(published!.eventId);
      const delivery = await prisma.webhookDelivery.findFirstOrThrow({
        where: { eventId: published!.eventId, endpointId: goneEndpoint.id },
      });

      expect(await attemptWebhookDelivery(delivery.id)).toMatchObject({ outcome: "failed" });

      const raised = await prisma.webhookEvent.findMany({
        where: { userId: user.id, type: { in: ["endpoint.disabled", "delivery.exhausted"] } },
        orderBy: { type: "asc" },
      });
      expect(raised.map((row) => row.type)).toEqual(["delivery.exhausted", "endpoint.disabled"]);
      expect(raised.find((row) => row.type === "delivery.exhausted")!.payload).toMatchObject({
        delivery: { id: delivery.id, event_type: "order.created", last_status_code: 410 },
      });
      for (const row of raised) {
        expect(row.dispatchedAt).toBeInstanceOf(Date);
        expect(itemsFor(row.id)).toEqual([expect.objectContaining({ task: "webhook-event-fanout" })]);
      }
      expect(
        (await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: goneEndpoint.id } })).disabledAt,
      ).not.toBeNull();

      // The monitor's delivery of delivery.exhausted, failing for good too, raises nothing more.
      const exhausted = raised.find((row) => row.type === "delivery.exhausted")!;
      await fanOutEvent(exhausted.id);
      const toMonitor = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId: exhausted.id } });
      await prisma.webhookEndpoint.update({ where: { id: toMonitor.endpointId! }, data: { url: gone.url } });
      expect(await attemptWebhookDelivery(toMonitor.id)).toMatchObject({ outcome: "failed" });
      expect(
        await prisma.webhookEvent.count({
          where: { userId: user.id, type: { in: ["endpoint.disabled", "delivery.exhausted"] } },
        }),
      ).toBe(2);
    } finally {
      await gone.close();
    }
  });

  it("a delivery the engine gives up on (onFailure) raises delivery.exhausted in the same transaction", async () => {
    await orderType();
    const user = await createUser(prisma);
    const endpoint = await createEndpoint(
      { userId: user.id },
      EndpointCreateSchema.parse({
        name: "Flaky",
        url: "https://flaky.example.com/hook",
        eventTypes: ["order.created"],
      }),
    );
    const [published] = await publishEvents({ publisherId: user.id }, [{ eventType: "order.created", payload: {} }]);
    await fanOutEvent(published!.eventId);
    const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId: published!.eventId } });

    await markDeliveryAbandoned(delivery.id, new Error("worker crashed 20 times"));
    await markDeliveryAbandoned(delivery.id, new Error("worker crashed 20 times"));

    const raised = await prisma.webhookEvent.findMany({ where: { userId: user.id, type: "delivery.exhausted" } });
    expect(raised).toHaveLength(1);
    expect(raised[0]!.payload).toMatchObject({
      endpoint: { id: endpoint.id, name: "Flaky" },
      delivery: { id: delivery.id, last_error: "Abandoned by the job engine: worker crashed 20 times" },
    });
  });
});

describe("Trigger.dev run ids on what triggered them", () => {
  it("keeps a delivery's run id when one delivery is triggered, and the batch's on each of several events", async () => {
    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    const definition = await createIntegrationDefinition(prisma);
    await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: "https://one.example/hook" });
    const { eventId } = await connectIntegration(prisma, { userId: user.id, definition });

    // One recipient: the fan-out triggers its one delivery with `trigger`, whose answer names the run.
    const catalog = await loadTaskCatalog([path.resolve("trigger/oauth-integration-webhook-delivery.ts")]);
    await runInMockTaskContext(
      ({ ctx }) =>
        catalog
          .get("oauth-integration-webhook-delivery")!
          .run({ eventId }, { ctx, signal: new AbortController().signal }),
      { ctx: { run: { id: "run_fanout_single" } } },
    );
    const delivery = await prisma.webhookDelivery.findFirstOrThrow({
      where: { eventId },
      select: { id: true, triggerRunId: true, triggerBatchId: true },
    });
    const [item] = triggerDev.triggered.filter(
      (sent) => (sent.payload as { deliveryId?: string }).deliveryId === delivery.id,
    );
    expect(item).toMatchObject({ task: "webhook-delivery", batchId: null, cached: false });
    expect(delivery).toMatchObject({ triggerRunId: item!.runId, triggerBatchId: null });
    // The runs console shows it, linked to the run in Trigger.dev's dashboard (TRIGGER_DASHBOARD_URL, cloud by default).
    const run = (await getRunDetail(`delivery_${delivery.id}`))!;
    expect(run.trigger).toEqual({
      runId: item!.runId,
      batchId: null,
      url: `https://cloud.trigger.dev/runs/${item!.runId}`,
    });
    // Its event was fanned out by hand here, never handed over: no Trigger.dev run to show for it.
    expect(run.event).toMatchObject({ id: eventId, trigger: null });

    // Two events handed over together: one batch, whose id each event keeps.
    const events = await Promise.all(
      ["a", "b"].map((name) =>
        prisma.webhookEvent.create({
          data: { type: "webhook.test", userId: user.id, source: `batch-${name}`, payload: {} },
          select: { id: true },
        }),
      ),
    );
    await dispatchPendingEvents({});
    const stored = await prisma.webhookEvent.findMany({
      where: { id: { in: events.map((e) => e.id) } },
      select: { id: true, triggerRunId: true, triggerBatchId: true },
    });
    const batches = new Set(
      triggerDev.triggered
        .filter((sent) => events.some((e) => e.id === (sent.payload as { eventId?: string }).eventId))
        .map((sent) => sent.batchId),
    );
    expect(batches.size).toBe(1);
    // A TaskRun left from the embedded engine is not replayed here: its runs are Trigger.dev's now.
    const leftover = await prisma.taskRun.create({
      data: { id: `leftover-${events[0]!.id}`, taskId: "webhook-event-fanout", payload: { eventId: events[0]!.id } },
    });
    await expect(replayRun(leftover.id, { id: user.id, email: "ops@example.com" })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("Trigger.dev dashboard"),
    });
    await prisma.taskRun.delete({ where: { id: leftover.id } });
    expect(stored.map((row) => ({ triggerRunId: row.triggerRunId, triggerBatchId: row.triggerBatchId }))).toEqual([
      { triggerRunId: null, triggerBatchId: [...batches][0] },
      { triggerRunId: null, triggerBatchId: [...batches][0] },
    ]);
  });
});
