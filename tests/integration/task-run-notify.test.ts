import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { TASK_RUN_CHANNEL, enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import { dispatchPendingEvents } from "~/services/webhooks/outbox-dispatcher.server";
import { publishEvent } from "~/services/webhooks/publish.server";
import { fanOutEvent } from "~/services/webhooks/integration-fanout.server";
import { integrationEventSource } from "~/services/webhooks/integration-events.server";
import { createIntegrationAccount } from "~/services/integrations/handle-account-message.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { waitFor } from "../support/wait";

// Each queue claims only when a notification names one of its tasks (the engine's wakeFor), so
// the payloads must name exactly the tasks that got runs.

let listener: pg.Client;
const payloads: string[] = [];

beforeAll(async () => {
  listener = new pg.Client({ connectionString: process.env.DATABASE_URL });
  listener.on("notification", (message) => payloads.push(message.payload ?? ""));
  await listener.connect();
  await listener.query(`LISTEN ${TASK_RUN_CHANNEL}`);
});

afterAll(() => listener.end());

async function nextPayload(): Promise<string> {
  const seen = payloads.length;
  await waitFor(async () => payloads.length > seen, { timeoutMs: 5_000 });
  return payloads[seen]!;
}

describe("task run notifications", () => {
  it("name the tasks that were queued", async () => {
    const next = nextPayload();
    await enqueueTaskRuns(prisma, [
      { taskId: "task-a", payload: {} },
      { taskId: "task-b", payload: {} },
      { taskId: "task-a", payload: {} },
    ]);
    expect((await next).split(",").sort()).toEqual(["task-a", "task-b"]);
  });

  it("name each event's fan-out task when the outbox hands events over, and stay silent when there is nothing", async () => {
    const user = await createUser(prisma);
    const source = `notify-test:${user.id}`;
    await prisma.$transaction(async (tx) => {
      await publishEvent(
        user.id,
        "webhook.test",
        { event: "webhook.test", message: "hi", endpoint_id: "none", timestamp: new Date().toISOString() },
        { tx, source },
      );
    });
    const next = nextPayload();
    expect(await dispatchPendingEvents({ source })).toBe(1);
    expect(await next).toBe("webhook-event-fanout");

    const before = payloads.length;
    expect(await dispatchPendingEvents({ source })).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(payloads.length).toBe(before);
  });

  it("name the fan-out task when a publish outside a transaction records its event and queues its run in one statement", async () => {
    const user = await createUser(prisma);
    const next = nextPayload();
    const { eventId } = await publishEvent(user.id, "webhook.test", {
      event: "webhook.test",
      message: "hi",
      endpoint_id: "none",
      timestamp: new Date().toISOString(),
    });
    expect(await next).toBe("webhook-event-fanout");
    const event = await prisma.webhookEvent.findUniqueOrThrow({ where: { id: eventId } });
    expect(event).toMatchObject({ dispatchAttempts: 1, dispatchedAt: expect.any(Date) });
    expect(await prisma.taskRun.findMany({ where: { idempotencyKey: `webhook.test:${eventId}` } })).toEqual([
      expect.objectContaining({ taskId: "webhook-event-fanout", payload: { eventId }, status: "QUEUED" }),
    ]);
    // Nothing is left for the dispatcher: the same run is not queued twice.
    expect(await dispatchPendingEvents({ eventIds: [eventId] })).toBe(0);
  });

  it("name the integration fan-out when a first connect writes its account, event and run in one statement", async () => {
    const user = await createUser(prisma);
    const next = nextPayload();
    const account = await createIntegrationAccount(prisma, {
      userId: user.id,
      definition: await createIntegrationDefinition(prisma),
      message: {
        type: "account",
        data: { accountId: "acct-notify", displayName: "Acme", settings: {}, credentials: { apiKey: "k" } },
      },
    });
    expect(account).toMatchObject({ reconnected: false, handedOver: true });
    expect(await next).toBe("oauth-integration-webhook-delivery");
    const event = await prisma.webhookEvent.findFirstOrThrow({ where: { source: integrationEventSource(account.id) } });
    expect(event).toMatchObject({ type: "integration.connected", dispatchAttempts: 1, dispatchedAt: expect.any(Date) });
    expect(await prisma.taskRun.findMany({ where: { idempotencyKey: `integration.connected:${event.id}` } })).toEqual([
      expect.objectContaining({ taskId: "oauth-integration-webhook-delivery", payload: { eventId: event.id } }),
    ]);
    // Nothing is left for the dispatcher: the same run is not queued twice.
    expect(await dispatchPendingEvents({ eventIds: [event.id] })).toBe(0);
  });

  it("wake the delivery queue in the statement that creates the deliveries, which are its queue entries: no runs", async () => {
    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: "https://example.com/h",
    });
    const { eventId } = await connectIntegration(prisma, {
      userId: user.id,
      definition: await createIntegrationDefinition(prisma),
    });

    const seen = payloads.length;
    expect(await fanOutEvent(eventId)).toEqual({ deliveries: 1 });
    await waitFor(async () => payloads.slice(seen).includes("webhook-delivery"), { timeoutMs: 5_000 });
    const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId, oauthClientId: app.id } });
    // Due at once: the claim takes it from its row.
    expect(delivery).toMatchObject({ status: "PENDING", completedAt: null });
    expect(delivery.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await prisma.taskRun.count({ where: { taskId: "webhook-delivery" } })).toBe(0);

    // Again: no second delivery, and no second wake-up for it.
    const again = payloads.length;
    expect(await fanOutEvent(eventId)).toEqual({ deliveries: 1 });
    expect(await prisma.webhookDelivery.count({ where: { eventId } })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(payloads.slice(again)).not.toContain("webhook-delivery");
  });
});
