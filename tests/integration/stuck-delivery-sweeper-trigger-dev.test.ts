import { afterAll, afterEach, describe, expect, it } from "vitest";
import { globalIdempotencyKey as globalKey, pointEchoAtTriggerDevStandIn } from "../support/stand-ins/trigger-dev";
import { waitFor } from "../support/wait";

// Echo with TRIGGER_SECRET_KEY set, against a stand-in of Trigger.dev's API; every app module is
// imported after the environment names it.
const triggerDev = await pointEchoAtTriggerDevStandIn();

const { prisma } = await import("~/db.server");
const { usesTriggerDev } = await import("~/services/jobs.server");
const { ServiceError } = await import("~/services/service-error.server");
const { EndpointCreateSchema, createEndpoint, retryFailedDeliveries } =
  await import("~/services/webhooks/endpoints.server");
const { REQUEST_TRIGGER_TIMEOUT_MS } = await import("~/services/webhooks/integration-fanout.server");
const { RETRY_RECORDED_MESSAGE, retryDeliveryByHand } = await import("~/services/webhooks/retry-delivery.server");
const { sweepKey, sweepStuckDeliveries } = await import("~/services/webhooks/stuck-delivery-sweeper.server");
const { createUser } = await import("../support/fixtures/webhooks");

afterEach(() => {
  triggerDev.behaviour.failWith = null;
  triggerDev.release();
});
afterAll(() => triggerDev.close());

function itemsFor(deliveryId: string) {
  return triggerDev.triggered.filter(
    (item) => item.task === "webhook-delivery" && (item.payload as { deliveryId?: string }).deliveryId === deliveryId,
  );
}

async function failedDelivery() {
  const user = await createUser(prisma);
  const endpoint = await createEndpoint(
    { userId: user.id },
    EndpointCreateSchema.parse({ name: "Receiver", url: "https://receiver.example/hook" }),
  );
  const event = await prisma.webhookEvent.create({
    data: { type: "issue.created", userId: user.id, source: "test", payload: {}, dispatchedAt: new Date() },
    select: { id: true },
  });
  const delivery = await prisma.webhookDelivery.create({
    data: {
      eventId: event.id,
      endpointId: endpoint.id,
      eventType: "issue.created",
      url: endpoint.url,
      body: "{}",
      status: "FAILED",
      attemptCount: 3,
      maxAttempts: 3,
      nextAttemptAt: null,
      completedAt: new Date(),
    },
    select: { id: true },
  });
  return { user, endpoint, delivery };
}

function deliveryRow(id: string) {
  return prisma.webhookDelivery.findUniqueOrThrow({
    where: { id },
    select: { status: true, attemptCount: true, nextAttemptAt: true },
  });
}

describe("stuck deliveries on Trigger.dev (TRIGGER_SECRET_KEY set)", () => {
  it("is the mode this file runs in", () => {
    expect(usesTriggerDev).toBe(true);
  });

  it("answers a retry by hand during an outage at once, saying the retry is recorded; a sweep sends it once the API is back", async () => {
    const { user, endpoint, delivery } = await failedDelivery();
    triggerDev.behaviour.failWith = 503;

    const started = Date.now();
    const result = await retryDeliveryByHand({ deliveryId: delivery.id, ownerId: user.id });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toEqual({ ok: false, status: 503, error: RETRY_RECORDED_MESSAGE });
    const reopened = await deliveryRow(delivery.id);
    expect(reopened.status).toBe("RETRYING");
    expect(itemsFor(delivery.id)).toEqual([]);

    // A sweep during the outage fails (and is logged by the sweeper's loop); the delivery waits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(sweepStuckDeliveries({ graceSeconds: 0.2 })).rejects.toThrow();
    expect(itemsFor(delivery.id)).toEqual([]);

    triggerDev.behaviour.failWith = null;
    await expect(sweepStuckDeliveries({ graceSeconds: 0.2 })).resolves.toBeGreaterThanOrEqual(1);
    const key = sweepKey({ id: delivery.id, attemptCount: 3, dueMs: reopened.nextAttemptAt!.getTime() });
    expect(itemsFor(delivery.id)).toEqual([
      expect.objectContaining({
        payload: { deliveryId: delivery.id },
        idempotencyKey: globalKey(key),
        concurrencyKey: endpoint.id,
        cached: false,
      }),
    ]);

    // Runs cannot be listed on Trigger.dev: the next sweep asks again for the same state, and gets the same run.
    await sweepStuckDeliveries({ graceSeconds: 0.2 });
    expect(itemsFor(delivery.id).map((item) => item.cached)).toEqual([false, true]);
    expect(triggerDev.runs().filter((run) => run.idempotencyKey === globalKey(key))).toHaveLength(1);
  });

  it("gives up on an API that does not answer after REQUEST_TRIGGER_TIMEOUT_MS, and a run created late does not swallow the next retry by hand", async () => {
    const { user, delivery } = await failedDelivery();
    triggerDev.behaviour.stall = true;

    const started = Date.now();
    const first = await retryDeliveryByHand({ deliveryId: delivery.id, ownerId: user.id });
    expect(Date.now() - started).toBeLessThan(REQUEST_TRIGGER_TIMEOUT_MS + 3_000);
    expect(first).toEqual({ ok: false, status: 503, error: RETRY_RECORDED_MESSAGE });

    // The API answers late: the first retry's run exists after all. Say it found the delivery closed again
    // (the engine gave up on it) without an attempt: a second retry by hand is for the same attempt number.
    triggerDev.release();
    await waitFor(async () => itemsFor(delivery.id).length >= 1);
    await prisma.webhookDelivery.update({
      where: { id: delivery.id },
      data: { status: "FAILED", completedAt: new Date() },
    });

    await expect(retryDeliveryByHand({ deliveryId: delivery.id, ownerId: user.id })).resolves.toEqual({ ok: true });
    const items = itemsFor(delivery.id);
    expect(items).toHaveLength(2);
    expect(items[1]!.cached).toBe(false);
    expect(items[0]!.idempotencyKeyOptions?.key).not.toEqual(items[1]!.idempotencyKeyOptions?.key);
  });

  it("answers retry-failed during an outage with a 503 that says the deliveries are queued, and leaves them RETRYING for the sweeper", async () => {
    const { user, endpoint, delivery } = await failedDelivery();
    triggerDev.behaviour.failWith = 503;

    const started = Date.now();
    const outcome = await retryFailedDeliveries({ userId: user.id }, endpoint.id, new Date(Date.now() - 60_000)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(outcome).toBeInstanceOf(ServiceError);
    expect(outcome).toMatchObject({ status: 503, message: expect.stringMatching(/^1 failed delivery is queued/) });
    expect((await deliveryRow(delivery.id)).status).toBe("RETRYING");
  });
});
