import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { logger } from "~/logger.server";
import { DeliveryQueueWorker } from "~/services/jobs/delivery-queue-worker.server";
import { createOAuthApp, createUser, insertDeliveries } from "../support/fixtures/webhooks";
import { waitFor } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

const workers: DeliveryQueueWorker[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  // Each test starts with an empty queue: another test's leftovers would wake the worker.
  await prisma.deliveryAttempt.deleteMany();
  await prisma.webhookDelivery.deleteMany();
});

/** Longer than any test here: nothing below may depend on the worker's poll. */
const NEVER_POLL_MS = 120_000;

async function receiver(response?: Parameters<typeof startWebhookReceiver>[0]) {
  const started = await startWebhookReceiver(response);
  receivers.push(started);
  return started;
}

async function world() {
  const user = await createUser(prisma);
  const app = async (url: string, timeoutMs = 5_000) =>
    createOAuthApp(prisma, { ownerId: user.id, grantUserId: user.id, webhookUrl: url, timeoutMs });
  /** `count` deliveries to `appId`, due now, as the fan-out writes them. */
  const due = (appId: string, url: string, count: number) =>
    insertDeliveries(prisma, { prefix: `${appId}-${Date.now()}`, userId: user.id, appId, url, count });
  return { app, due };
}

function startWorker(limits: { limit: number; perTarget: number }) {
  const worker = new DeliveryQueueWorker({
    db: prisma,
    logger,
    workerId: `worker-test-${workers.length}`,
    pollIntervalMs: NEVER_POLL_MS,
    shutdownGraceMs: 100,
    ...limits,
  });
  workers.push(worker);
  worker.start();
  return worker;
}

describe("the embedded engine's delivery worker", () => {
  it("lets a hanging receiver hold only its share of slots while the other targets' deliveries go out", async () => {
    const hanging = await receiver({ hang: true });
    const healthy = await receiver();
    const { app, due } = await world();
    const stuck = await app(hanging.url, 30_000);
    const fine = await app(healthy.url);
    await due(stuck.id, hanging.url, 8);
    await due(fine.id, healthy.url, 6);

    const worker = startWorker({ limit: 4, perTarget: 2 });
    await healthy.waitForCount(6, 10_000);
    await hanging.waitForCount(2, 10_000);
    // Give the worker time to (wrongly) claim more for the hanging target.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hanging.received).toHaveLength(2);
    expect(worker.state().inFlightByTarget.get(stuck.id)).toBe(2);
    expect(worker.state().inFlight).toBe(2);
    const open = await prisma.webhookDelivery.count({ where: { oauthClientId: stuck.id, status: "PENDING" } });
    expect(open).toBe(6);
  });

  it("starts a delivery that arrives while it has free slots on its wake-up, not on the next poll", async () => {
    const hanging = await receiver({ hang: true });
    const healthy = await receiver();
    const { app, due } = await world();
    const stuck = await app(hanging.url, 30_000);
    const fine = await app(healthy.url);
    // A backlog the worker cannot take (its target is at its share), and a worker asleep until the poll.
    await due(stuck.id, hanging.url, 20);
    const worker = startWorker({ limit: 8, perTarget: 2 });
    await hanging.waitForCount(2, 10_000);
    await waitFor(async () => worker.state().inFlight === 2);
    // Let its claims settle: with nothing it may take, it sleeps until the poll.
    await new Promise((resolve) => setTimeout(resolve, 300));

    await due(fine.id, healthy.url, 1);
    // What the NOTIFY from the statement that creates deliveries does; asleep, the worker would wait out the poll.
    worker.wake();
    await healthy.waitForCount(1, 10_000);
    expect(worker.state().inFlightByTarget.get(stuck.id)).toBe(2);
  });

  it("frees a slot when its request is over, while the outcome is recorded, and holds claims back when recording lags", async () => {
    const inbox = await receiver();
    const { app, due } = await world();
    const target = await app(inbox.url);
    await due(target.id, inbox.url, 3);
    // The database takes no attempt record until this transaction ends.
    const blocker = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query('LOCK TABLE "DeliveryAttempt" IN ACCESS EXCLUSIVE MODE');
      const worker = startWorker({ limit: 1, perTarget: 1 });
      // One slot, yet a second request goes out while the first outcome waits to be recorded…
      await inbox.waitForCount(2, 10_000);
      await waitFor(async () => worker.state().recording === 2);
      expect(worker.state().inFlight).toBe(0);
      // …and no third: twice the limit may wait for their records, no more.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(inbox.received).toHaveLength(2);
      await blocker.query("COMMIT");
      await inbox.waitForCount(3, 10_000);
      await waitFor(
        async () =>
          (await prisma.webhookDelivery.count({ where: { oauthClientId: target.id, status: "SUCCESS" } })) === 3,
      );
    } finally {
      await blocker.end();
    }
  });
});
