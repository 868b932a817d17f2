import { afterAll, describe, expect, it } from "vitest";
import { createDatabaseClient, prisma } from "~/db.server";
import { attemptWebhookDelivery } from "~/services/webhooks/deliver-webhook.server";
import { fanOutIntegrationEvent } from "~/services/webhooks/integration-fanout.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// attemptWebhookDelivery (Trigger.dev's task and every test send) records an attempt in one
// transaction after the request is sent. Prisma gives up starting a transaction after 2 s by
// default; the outcome must outlast a longer wait for a connection, or the receiver gets the
// delivery again when the lease ends.

const receivers: WebhookReceiver[] = [];
afterAll(() => Promise.all(receivers.map((receiver) => receiver.close())));

describe("recording an attempt while the database is busy", () => {
  it("records the outcome of a request already sent although every connection is busy for longer than 2 s", async () => {
    const inbox = await startWebhookReceiver({ status: 200, body: "ok", delayMs: 300 });
    receivers.push(inbox);
    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const { eventId } = await connectIntegration(prisma, {
      userId: user.id,
      definition: await createIntegrationDefinition(prisma),
    });
    await fanOutIntegrationEvent(eventId);
    const { id } = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId } });

    const POOL_SIZE = 2;
    const db = createDatabaseClient(process.env.DATABASE_URL as string, { max: POOL_SIZE });
    try {
      const attempt = attemptWebhookDelivery(id, { db });
      await inbox.waitForCount(1);
      // While the receiver holds the request, every connection of the pool sleeps 3.5 s.
      const stall = Promise.all(Array.from({ length: POOL_SIZE }, () => db.$executeRaw`SELECT pg_sleep(3.5)`));
      const startedWaiting = Date.now();
      expect(await attempt).toMatchObject({ outcome: "delivered" });
      expect(Date.now() - startedWaiting).toBeGreaterThan(2_500);
      await stall;
    } finally {
      await db.$disconnect();
    }

    const recorded = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id }, include: { attempts: true } });
    expect(recorded.status).toBe("SUCCESS");
    expect(recorded.attempts.map((attempt) => attempt.responseStatus)).toEqual([200]);
    expect(inbox.received).toHaveLength(1);
  });
});
