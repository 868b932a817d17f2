import path from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn } from "~/services/jobs/task-catalog.server";
import { usesTriggerDev } from "~/services/jobs.server";
import { EndpointCreateSchema, createEndpoint, pauseEndpoint } from "~/services/webhooks/endpoints.server";
import { sweepStuckDeliveries } from "~/services/webhooks/stuck-delivery-sweeper.server";
import { createOAuthApp, createUser } from "../support/fixtures/webhooks";
import { waitFor } from "../support/wait";
import { startWebhookReceiver } from "../support/webhook-receiver";

const receiver = await startWebhookReceiver();
afterAll(() => receiver.close());

const GRACE_SECONDS = 60;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function openDelivery(
  target: { endpointId?: string; oauthClientId?: string },
  {
    userId,
    status = "PENDING",
    nextAttemptAt,
    createdAt,
    updatedAt,
  }: {
    userId: string;
    status?: "PENDING" | "RETRYING" | "SUCCESS";
    nextAttemptAt: Date | null;
    createdAt?: Date;
    /** When it was last changed: for a held delivery, when it was held. */
    updatedAt?: Date;
  },
) {
  const event = await prisma.webhookEvent.create({
    data: { type: "issue.created", userId, source: "test", payload: {}, dispatchedAt: new Date() },
    select: { id: true },
  });
  return prisma.webhookDelivery.create({
    data: {
      eventId: event.id,
      ...target,
      eventType: "issue.created",
      url: receiver.url,
      body: JSON.stringify({ marker: event.id }),
      maxAttempts: 3,
      status,
      nextAttemptAt,
      ...(createdAt ? { createdAt } : {}),
      ...(updatedAt ? { updatedAt } : {}),
      ...(status === "SUCCESS" ? { completedAt: new Date() } : {}),
    },
    select: { id: true, attemptCount: true, nextAttemptAt: true, createdAt: true, body: true },
  });
}

function dueOf(deliveryId: string) {
  return prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, select: { nextAttemptAt: true } });
}

// On the embedded engine a due open delivery is its own queue entry: nothing can lose its run. What the
// sweeper looks after is a delivery held back (no due time) for a reason that no longer holds.
describe("the stuck-delivery sweeper on the embedded engine", () => {
  it("is the mode this file runs in", () => {
    expect(usesTriggerDev).toBe(false);
  });

  it("releases each delivery held past the grace period whose endpoint is not paused, once, and the queue delivers it", async () => {
    const user = await createUser(prisma);
    const actor = { userId: user.id };
    const endpoint = await createEndpoint(actor, EndpointCreateSchema.parse({ name: "Up", url: receiver.url }));
    const paused = await createEndpoint(actor, EndpointCreateSchema.parse({ name: "Paused", url: receiver.url }));
    await pauseEndpoint(actor, paused.id);
    const app = await createOAuthApp(prisma, { ownerId: user.id, grantUserId: user.id, webhookUrl: receiver.url });

    // Held ten and twenty minutes ago (a test send's request that died, a resume cut short).
    const heldToEndpoint = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, nextAttemptAt: null, updatedAt: minutesAgo(10) },
    );
    const heldToApp = await openDelivery(
      { oauthClientId: app.id },
      {
        userId: user.id,
        status: "RETRYING",
        nextAttemptAt: null,
        createdAt: minutesAgo(20),
        updatedAt: minutesAgo(20),
      },
    );
    // Left alone: held just now (a test send in progress), held by a paused endpoint, finished, already due.
    const heldJustNow = await openDelivery({ endpointId: endpoint.id }, { userId: user.id, nextAttemptAt: null });
    const onPausedEndpoint = await openDelivery(
      { endpointId: paused.id },
      { userId: user.id, nextAttemptAt: null, updatedAt: minutesAgo(10) },
    );
    const finished = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, status: "SUCCESS", nextAttemptAt: null, updatedAt: minutesAgo(10) },
    );
    const alreadyDue = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, nextAttemptAt: minutesAgo(10), updatedAt: minutesAgo(10) },
    );

    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS })).resolves.toBe(2);
    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS })).resolves.toBe(0);
    for (const released of [heldToEndpoint, heldToApp])
      expect((await dueOf(released.id)).nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
    for (const untouched of [heldJustNow, onPausedEndpoint, finished])
      expect((await dueOf(untouched.id)).nextAttemptAt).toBeNull();
    expect((await dueOf(alreadyDue.id)).nextAttemptAt).toEqual(alreadyDue.nextAttemptAt);
    expect(await prisma.taskRun.count({ where: { taskId: "webhook-delivery" } })).toBe(0);

    // The engine's delivery queue sends what is due, and only that.
    const catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
    const engine = new EmbeddedTaskEngine(catalog, {
      db: prisma,
      databaseUrl: process.env.DATABASE_URL as string,
      logger: pino({ level: "silent" }),
      pollIntervalMs: 50,
    });
    await engine.start();
    try {
      await receiver.waitForCount(3);
      for (const sent of [heldToEndpoint, heldToApp, alreadyDue]) {
        await waitFor(async () => {
          const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: sent.id } });
          return row.status === "SUCCESS";
        });
      }
      // The one held just now is a test send's to make; the paused endpoint's waits for its resume.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await engine.stop();
    }
    expect(receiver.received.map((webhook) => webhook.body).sort()).toEqual(
      [heldToEndpoint.body, heldToApp.body, alreadyDue.body].sort(),
    );
    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS })).resolves.toBe(0);
  });

  it("goes through every batch, and releases each delivery once", async () => {
    const user = await createUser(prisma);
    const endpoint = await createEndpoint(
      { userId: user.id },
      EndpointCreateSchema.parse({ name: "Batches", url: receiver.url }),
    );
    const deliveries = [];
    for (let i = 0; i < 7; i++)
      deliveries.push(
        await openDelivery(
          { endpointId: endpoint.id },
          { userId: user.id, nextAttemptAt: null, updatedAt: minutesAgo(30 - i) },
        ),
      );

    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS, batchSize: 3 })).resolves.toBe(7);
    for (const delivery of deliveries) expect((await dueOf(delivery.id)).nextAttemptAt).not.toBeNull();
    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS, batchSize: 3 })).resolves.toBe(0);
  });
});
