import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import { attemptWebhookDelivery } from "~/services/webhooks/deliver-webhook.server";
import { fanOutIntegrationEvent, WEBHOOK_DELIVERY_TASK_ID } from "~/services/webhooks/integration-fanout.server";
import { dispatchPendingEvents, INTEGRATION_FANOUT_TASK_ID } from "~/services/webhooks/outbox-dispatcher.server";
import {
  computeLedger,
  SETTLE_DEADLINE_MS,
  expectAtLeastOnce,
  FAULTS_SCALE,
  printLedger,
  settle,
} from "../support/faults/ledger";
import { createFaultWorld, startInProcessWorker, type FaultWorld } from "../support/faults/scenario";

// Every step of the pipeline done twice or more, at once: the outbox dispatched by several
// sweepers, its hand-over mark lost and redone, the fan-out run twice, each delivery's run
// triggered again and attempted concurrently. No crash: receivers must see each event once.

const EVENTS = 8 * FAULTS_SCALE;

let worker: Awaited<ReturnType<typeof startInProcessWorker>>;
let world: FaultWorld | undefined;

beforeAll(async () => {
  worker = await startInProcessWorker(prisma, process.env.DATABASE_URL as string);
});

afterAll(async () => {
  await worker.stop();
  await world?.close();
});

describe("the same event triggered twice", () => {
  it("one delivery row per (event, app), each received once, whatever runs twice", async () => {
    const startedAt = Date.now();
    // A receiver slow enough (50 ms) that concurrent attempts really overlap.
    const slow = { behave: () => ({ status: 200, delayMs: 50 }) };
    world = await createFaultWorld(prisma, [slow, slow]);
    const events = [];
    for (let i = 0; i < EVENTS; i++) events.push(await world.produceEvent({ handOver: false }));
    const eventIds = events.map((event) => event.eventId);

    // Dispatch twice: three sweepers at once, and the fan-out run twice by hand beside them.
    // On a busy machine a dispatcher may wait too long for a connection and fail, as the app's
    // fast path may; the app logs it and its sweeper (running here too) hands the event over.
    const dispatch = () => dispatchPendingEvents({}, prisma).catch(() => 0);
    await Promise.all([
      dispatch(),
      dispatch(),
      dispatch(),
      ...eventIds.flatMap((eventId) => [fanOutIntegrationEvent(eventId), fanOutIntegrationEvent(eventId)]),
    ]);
    // A hand-over whose mark was lost (a crash between trigger and mark): dispatched again.
    await prisma.webhookEvent.updateMany({ where: { id: { in: eventIds } }, data: { dispatchedAt: null } });
    await dispatch();

    // Each delivery's run triggered again without its idempotency key, and attempted twice concurrently.
    const deliveries = await prisma.webhookDelivery.findMany({ where: { eventId: { in: eventIds } } });
    await enqueueTaskRuns(
      prisma,
      deliveries.flatMap((delivery) => [
        { taskId: WEBHOOK_DELIVERY_TASK_ID, payload: { deliveryId: delivery.id } },
        { taskId: WEBHOOK_DELIVERY_TASK_ID, payload: { deliveryId: delivery.id } },
      ]),
    );
    await Promise.all(
      deliveries.flatMap((delivery) => [attemptWebhookDelivery(delivery.id), attemptWebhookDelivery(delivery.id)]),
    );
    // And a fan-out after everything was delivered: nothing new to create or send.
    await Promise.all(eventIds.map((eventId) => fanOutIntegrationEvent(eventId)));

    await settle(prisma, eventIds, SETTLE_DEADLINE_MS);
    const ledger = await computeLedger({
      scenario: "same event dispatched/fanned out/run 2x+",
      db: prisma,
      events,
      apps: world.apps,
      startedAt,
    });
    printLedger(ledger);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    expect(deliveries).toHaveLength(EVENTS * world.apps.length);
    // Each request Echo made is a distinct delivery: nothing was even sent twice.
    expect(ledger.requests).toBe(ledger.expected);
    // One fan-out run per event, however often it was dispatched (the idempotency key).
    expect(await prisma.taskRun.count({ where: { taskId: INTEGRATION_FANOUT_TASK_ID } })).toBe(EVENTS);
  });
});
