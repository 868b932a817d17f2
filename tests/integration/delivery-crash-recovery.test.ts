import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { triggerOAuthIntegrationWebhook } from "~/services/webhooks/integration-events.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { startWebhookReceiver } from "../support/webhook-receiver";

const servers: RunningEcho[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
});

describe("a worker killed mid-delivery", () => {
  it("completes the delivery after restart: received, never lost", async () => {
    const databaseUrl = process.env.DATABASE_URL as string;
    const engineEnv = {
      ENGINE_LEASE_MS: "1000",
      OUTBOX_SWEEP_INTERVAL_MS: "200",
      SEED_DEMO_DATA: "false",
      OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
    };
    const inbox = await startWebhookReceiver();
    // The first request hangs: the worker is mid-delivery when it is killed.
    inbox.respondWith({ hang: true });

    const user = await createUser(prisma);
    const owner = await createUser(prisma);
    const definition = await createIntegrationDefinition(prisma);
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      timeoutMs: 5_000,
    });

    const first = await startEchoServer({ databaseUrl, env: engineEnv });
    servers.push(first);
    const { account, eventId } = await connectIntegration(prisma, { userId: user.id, definition });
    await triggerOAuthIntegrationWebhook(account.id, user.id);
    await inbox.waitForCount(1);
    expect(await first.stop("SIGKILL")).toBe(null);

    const inFlight = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId, oauthClientId: app.id } });
    expect(inFlight.status).toBe("SENDING");

    const second = await startEchoServer({ databaseUrl, env: engineEnv });
    servers.push(second);
    await inbox.waitForCount(2, 30_000);
    const delivered = await (async () => {
      for (let i = 0; i < 100; i++) {
        const row = await prisma.webhookDelivery.findUniqueOrThrow({
          where: { id: inFlight.id },
          include: { attempts: true },
        });
        if (row.status === "SUCCESS") return row;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("delivery never succeeded");
    })();
    expect(delivered.status).toBe("SUCCESS");
    // The killed attempt is logged as interrupted; the retry is attempt 2.
    expect(delivered.attemptCount).toBe(2);
    const attempts = delivered.attempts.sort((a, b) => a.attemptNumber - b.attemptNumber);
    expect(attempts.map((a) => [a.attemptNumber, a.responseStatus])).toEqual([
      [1, null],
      [2, 200],
    ]);
    expect(attempts[0]!.error).toMatch(/worker stopped during this attempt/);
    expect(inbox.received.every((r) => r.headers["x-webhook-delivery"] === inFlight.id)).toBe(true);
    await second.stop();
    await inbox.close();
  }, 60_000);
});
