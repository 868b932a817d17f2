import path from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn } from "~/services/jobs/task-catalog.server";
import { usesTriggerDev } from "~/services/jobs.server";
import { EndpointCreateSchema, createEndpoint, pauseEndpoint } from "~/services/webhooks/endpoints.server";
import { sweepKey, sweepStuckDeliveries } from "~/services/webhooks/stuck-delivery-sweeper.server";
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
  }: {
    userId: string;
    status?: "PENDING" | "RETRYING" | "SUCCESS";
    nextAttemptAt: Date | null;
    createdAt?: Date;
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
    },
    select: { id: true, attemptCount: true, nextAttemptAt: true, createdAt: true, body: true },
  });
}

function runsOf(deliveryId: string) {
  return prisma.taskRun.findMany({
    where: { taskId: "webhook-delivery", payload: { path: ["deliveryId"], equals: deliveryId } },
    select: { status: true, payload: true, idempotencyKey: true, concurrencyKey: true },
  });
}

describe("the stuck-delivery sweeper on the embedded engine", () => {
  it("is the mode this file runs in", () => {
    expect(usesTriggerDev).toBe(false);
  });

  it("queues one run for each overdue open delivery with no run, once over two sweeps, and the engine delivers them", async () => {
    const user = await createUser(prisma);
    const actor = { userId: user.id };
    const endpoint = await createEndpoint(actor, EndpointCreateSchema.parse({ name: "Up", url: receiver.url }));
    const paused = await createEndpoint(actor, EndpointCreateSchema.parse({ name: "Paused", url: receiver.url }));
    await pauseEndpoint(actor, paused.id);
    const app = await createOAuthApp(prisma, { ownerId: user.id, grantUserId: user.id, webhookUrl: receiver.url });

    // Lost their runs: due ten minutes ago (by nextAttemptAt; by createdAt when that is null), no run.
    const stuck = await openDelivery({ endpointId: endpoint.id }, { userId: user.id, nextAttemptAt: minutesAgo(10) });
    const stuckRetry = await openDelivery(
      { oauthClientId: app.id },
      { userId: user.id, status: "RETRYING", nextAttemptAt: null, createdAt: minutesAgo(20) },
    );
    // Left alone: a live run (delayed, as a rate-limited delivery's is), not yet overdue, paused, finished.
    const withLiveRun = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, nextAttemptAt: minutesAgo(10) },
    );
    await prisma.taskRun.create({
      data: {
        id: `run-${withLiveRun.id}`,
        taskId: "webhook-delivery",
        payload: { deliveryId: withLiveRun.id },
        idempotencyKey: `delivery:${withLiveRun.id}:after:1`,
        runAt: new Date(Date.now() + 3_600_000),
      },
    });
    const notYetOverdue = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, nextAttemptAt: new Date() },
    );
    const onPausedEndpoint = await openDelivery(
      { endpointId: paused.id },
      { userId: user.id, nextAttemptAt: minutesAgo(10) },
    );
    const finished = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, status: "SUCCESS", nextAttemptAt: minutesAgo(10) },
    );
    // A finished run does not count as live: its delivery is re-queued.
    const afterFinishedRun = await openDelivery(
      { endpointId: endpoint.id },
      { userId: user.id, nextAttemptAt: minutesAgo(10) },
    );
    await prisma.taskRun.create({
      data: {
        id: `run-${afterFinishedRun.id}`,
        taskId: "webhook-delivery",
        payload: { deliveryId: afterFinishedRun.id },
        idempotencyKey: `delivery:${afterFinishedRun.id}`,
        status: "COMPLETED",
        completedAt: new Date(),
      },
    });

    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS })).resolves.toBe(3);
    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS })).resolves.toBe(0);

    expect(await runsOf(stuck.id)).toEqual([
      {
        status: "QUEUED",
        payload: { deliveryId: stuck.id },
        idempotencyKey: sweepKey({ id: stuck.id, attemptCount: 0, dueMs: stuck.nextAttemptAt!.getTime() }),
        concurrencyKey: endpoint.id,
      },
    ]);
    expect(await runsOf(stuckRetry.id)).toEqual([
      {
        status: "QUEUED",
        payload: { deliveryId: stuckRetry.id },
        idempotencyKey: sweepKey({ id: stuckRetry.id, attemptCount: 0, dueMs: stuckRetry.createdAt.getTime() }),
        concurrencyKey: app.id,
      },
    ]);
    expect((await runsOf(afterFinishedRun.id)).map((run) => run.status).sort()).toEqual(["COMPLETED", "QUEUED"]);
    expect((await runsOf(withLiveRun.id)).map((run) => run.idempotencyKey)).toEqual([
      `delivery:${withLiveRun.id}:after:1`,
    ]);
    for (const untouched of [notYetOverdue, onPausedEndpoint, finished]) expect(await runsOf(untouched.id)).toEqual([]);

    // The engine sends what the sweep queued, and only that.
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
      for (const sent of [stuck, stuckRetry, afterFinishedRun]) {
        await waitFor(async () => {
          const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: sent.id } });
          return row.status === "SUCCESS";
        });
      }
    } finally {
      await engine.stop();
    }
    expect(receiver.received.map((webhook) => webhook.body).sort()).toEqual(
      [stuck.body, stuckRetry.body, afterFinishedRun.body].sort(),
    );
    // Delivered: nothing left to sweep.
    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS })).resolves.toBe(0);
  });

  it("goes through every batch, in due order, and each delivery once", async () => {
    const user = await createUser(prisma);
    const endpoint = await createEndpoint(
      { userId: user.id },
      EndpointCreateSchema.parse({ name: "Batches", url: receiver.url }),
    );
    const deliveries = [];
    for (let i = 0; i < 7; i++)
      deliveries.push(
        await openDelivery({ endpointId: endpoint.id }, { userId: user.id, nextAttemptAt: minutesAgo(30 - i) }),
      );

    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS, batchSize: 3 })).resolves.toBe(7);
    for (const delivery of deliveries) expect(await runsOf(delivery.id)).toHaveLength(1);
    await expect(sweepStuckDeliveries({ graceSeconds: GRACE_SECONDS, batchSize: 3 })).resolves.toBe(0);
  });
});
