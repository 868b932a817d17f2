import path from "node:path";
import { runInMockTaskContext } from "@trigger.dev/core/v3/test";
import { AbortTaskRunError } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { loadTaskCatalog, type TaskCatalog } from "~/services/jobs/task-catalog.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// The Trigger.dev task definitions themselves, run under the SDK's official mock task
// context: the same code Trigger.dev would run when TRIGGER_SECRET_KEY is set.
let catalog: TaskCatalog;
let inbox: WebhookReceiver;

beforeAll(async () => {
  catalog = await loadTaskCatalog([
    path.resolve("trigger/oauth-integration-webhook-delivery.ts"),
    path.resolve("trigger/webhook-delivery.ts"),
  ]);
  inbox = await startWebhookReceiver();
});

afterAll(() => inbox.close());

function runTask(taskId: string, payload: unknown) {
  const task = catalog.get(taskId)!;
  return runInMockTaskContext(({ ctx }) => task.run(payload, { ctx, signal: new AbortController().signal }));
}

describe("Trigger.dev task definitions", () => {
  it("declare their queues, concurrency limits and retry settings", () => {
    expect(catalog.get("oauth-integration-webhook-delivery")).toMatchObject({
      queueName: "oauth-integration-webhook-delivery",
      concurrencyLimit: 100,
      retry: expect.objectContaining({ maxAttempts: 10 }),
    });
    expect(catalog.get("webhook-delivery")).toMatchObject({
      queueName: "webhook-delivery",
      concurrencyLimit: 400,
      concurrencyPerKey: 100,
    });
    expect(catalog.get("webhook-delivery")?.catchError).toBeTypeOf("function");
  });

  it("fan out an event, then deliver and ask for a retry at the delivery's own time on a 500", async () => {
    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    const definition = await createIntegrationDefinition(prisma);
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      retryBaseDelayMs: 1_000,
    });
    const { eventId } = await connectIntegration(prisma, { userId: user.id, definition });

    await expect(runTask("oauth-integration-webhook-delivery", { eventId })).resolves.toEqual({ deliveries: 1 });
    const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId, oauthClientId: app.id } });
    // Without TRIGGER_SECRET_KEY the delivery row itself is the embedded engine's queue entry (ADR 011): due now, no run.
    expect(delivery.completedAt).toBeNull();
    expect(delivery.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await prisma.taskRun.count({ where: { taskId: "webhook-delivery" } })).toBe(0);

    inbox.respondWith({ status: 500 });
    const error = await runTask("webhook-delivery", { deliveryId: delivery.id }).catch((e: unknown) => e);
    const decision = (await catalog.get("webhook-delivery")!.catchError!({
      error,
      payload: { deliveryId: delivery.id },
    })) as { retryAt: Date };
    expect(decision.retryAt.getTime()).toBeGreaterThan(Date.now());
    expect((await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status).toBe("RETRYING");

    await expect(runTask("webhook-delivery", { deliveryId: delivery.id })).resolves.toMatchObject({
      outcome: "delivered",
    });
    expect((await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status).toBe("SUCCESS");
    expect(inbox.received).toHaveLength(2);
  });

  it("abort without retrying on a permanent failure and on an unknown event", async () => {
    await expect(runTask("oauth-integration-webhook-delivery", { eventId: "no-such-event" })).rejects.toBeInstanceOf(
      AbortTaskRunError,
    );

    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    const definition = await createIntegrationDefinition(prisma);
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const { eventId } = await connectIntegration(prisma, { userId: user.id, definition });
    await runTask("oauth-integration-webhook-delivery", { eventId });
    const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId, oauthClientId: app.id } });
    inbox.respondWith({ status: 404 });
    await expect(runTask("webhook-delivery", { deliveryId: delivery.id })).rejects.toBeInstanceOf(AbortTaskRunError);
  });
});
