import path from "node:path";
import http from "node:http";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { verifyWebhook } from "~/lib/webhooks/signing";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn, type TaskCatalog } from "~/services/jobs/task-catalog.server";
import { triggerOAuthIntegrationWebhook } from "~/services/webhooks/integration-events.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { waitFor } from "../support/wait";

let catalog: TaskCatalog;
let engine: EmbeddedTaskEngine | undefined;
const receivers: WebhookReceiver[] = [];

function startEngine() {
  engine = new EmbeddedTaskEngine(catalog, {
    db: prisma,
    databaseUrl: process.env.DATABASE_URL as string,
    logger: pino({ level: "silent" }),
    leaseMs: 2_000,
    pollIntervalMs: 50,
  });
  return engine.start();
}

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

function deliveryFor(eventId: string, oauthClientId: string) {
  return prisma.webhookDelivery.findUnique({
    where: { eventId_oauthClientId: { eventId, oauthClientId } },
    include: { attempts: { orderBy: { attemptNumber: "asc" } } },
  });
}

function settled(eventId: string, oauthClientId: string) {
  return waitFor(async () => {
    const delivery = await deliveryFor(eventId, oauthClientId);
    return delivery && (delivery.status === "SUCCESS" || delivery.status === "FAILED") ? delivery : null;
  });
}

async function setup() {
  const user = await createUser(prisma);
  const owner = await createUser(prisma, "Developer");
  const definition = await createIntegrationDefinition(prisma);
  return { user, owner, definition };
}

async function connect(userId: string, definition: Awaited<ReturnType<typeof createIntegrationDefinition>>) {
  const connected = await connectIntegration(prisma, { userId, definition });
  await triggerOAuthIntegrationWebhook(connected.account.id, userId);
  return connected;
}

beforeAll(async () => {
  catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
  await startEngine();
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

describe("integration.connected delivery", () => {
  it("delivers the exact payload with all three signatures, which a receiver verifies", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });

    const { account, eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("SUCCESS");
    expect(inbox.received).toHaveLength(1);

    const request = inbox.received[0]!;
    const payload = JSON.parse(request.body) as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual(["event", "user_id", "integration", "timestamp"]);
    expect(payload).toEqual({
      event: "integration.connected",
      user_id: user.id,
      integration: {
        id: account.id,
        provider: definition.slug,
        account_id: account.accountId,
        mcp_endpoint: `mcp://echo.test/${definition.slug}/${account.accountId}`,
        name: "Linear",
        icon: "http://localhost:3000/icons/linear.svg",
      },
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(request.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Echo-OAuth-Webhooks/1.0",
      "x-webhook-delivery": delivery.id,
      "x-webhook-event": "integration.connected",
      "webhook-id": delivery.id,
    });
    const headers = request.headers as Record<string, string>;
    for (const format of ["standard", "timestamped", "legacy"] as const) {
      const only: Record<string, string> =
        format === "standard"
          ? {
              "webhook-id": headers["webhook-id"]!,
              "webhook-timestamp": headers["webhook-timestamp"]!,
              "webhook-signature": headers["webhook-signature"]!,
            }
          : format === "timestamped"
            ? {
                "x-webhook-timestamp": headers["x-webhook-timestamp"]!,
                "x-webhook-signature": headers["x-webhook-signature"]!,
              }
            : { "x-webhook-secret": headers["x-webhook-secret"]! };
      expect(
        verifyWebhook(request.body, only, [app.secret!], { allowLegacyBodyOnly: format === "legacy" }),
      ).toMatchObject({ ok: true });
    }
    expect(verifyWebhook(request.body.replace("Linear", "Linead"), headers, [app.secret!])).toMatchObject({
      ok: false,
    });

    expect(delivery.attempts).toHaveLength(1);
    const attempt = delivery.attempts[0]!;
    expect(attempt.responseStatus).toBe(200);
    expect(JSON.stringify(attempt.requestHeaders)).not.toContain(headers["webhook-signature"]!);
  });

  it("sends nothing to apps without the scope, with an inactive grant or without a webhookUrl", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    const eligible = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const noScope = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      allowedScopes: ["openid", "no-integration"],
      grantScopes: ["openid"],
    });
    const inactive = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      grantActive: false,
    });
    const noUrl = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: null });
    const otherUser = await createUser(prisma);
    const grantedToSomeoneElse = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: otherUser.id,
      webhookUrl: inbox.url,
    });

    const { eventId } = await connect(user.id, definition);
    await settled(eventId, eligible.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(inbox.received).toHaveLength(1);
    const deliveries = await prisma.webhookDelivery.findMany({ where: { eventId } });
    expect(deliveries.map((d) => d.oauthClientId)).toEqual([eligible.id]);
    for (const app of [noScope, inactive, noUrl, grantedToSomeoneElse]) {
      expect(deliveries.some((d) => d.oauthClientId === app.id)).toBe(false);
    }
  });

  it("retries 500, 500 then records three attempts and SUCCESS", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    inbox.respondWith({ status: 500, body: "boom" }, { status: 500, body: "boom again" });
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });

    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("SUCCESS");
    expect(delivery.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 200]);
    expect(delivery.attempts[0]!.responseBody).toBe("boom");
    expect(delivery.attempts[0]!.nextAttemptAt).not.toBeNull();
    expect(inbox.received).toHaveLength(3);
    // Every attempt carries the same delivery id and body, so receivers can deduplicate.
    expect(new Set(inbox.received.map((r) => r.headers["x-webhook-delivery"]))).toEqual(new Set([delivery.id]));
  });

  it("fails a 400 at once after one attempt", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver({ status: 400, body: "bad request" });
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });

    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("FAILED");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.lastStatusCode).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(inbox.received).toHaveLength(1);
  });

  it("gives up on a hanging receiver at the timeout and retries", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    inbox.respondWith({ hang: true });
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      timeoutMs: 5_000,
    });

    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("SUCCESS");
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]!.error).toMatch(/Timed out after 5000 ms/);
    expect(delivery.attempts[0]!.durationMs).toBeGreaterThanOrEqual(4_900);
  }, 30_000);

  it("delivers once the receiver, down when the user connected, comes back", async () => {
    const { user, owner, definition } = await setup();
    const probe = await receiver();
    const port = probe.port;
    const url = probe.url;
    await probe.close();
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: url,
      retryBaseDelayMs: 200,
    });

    const { eventId } = await connect(user.id, definition);
    await waitFor(async () => ((await deliveryFor(eventId, app.id))?.attempts.length ?? 0) >= 1);
    const down = await deliveryFor(eventId, app.id);
    expect(down?.status).toBe("RETRYING");
    expect(down?.attempts[0]?.error).toMatch(/ECONNREFUSED/);

    const back = await new Promise<http.Server>((resolve) => {
      const server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => res.end("ok"));
      });
      server.listen(port, "127.0.0.1", () => resolve(server));
    });
    try {
      const delivery = await settled(eventId, app.id);
      expect(delivery.status).toBe("SUCCESS");
    } finally {
      back.closeAllConnections();
      await new Promise((resolve) => back.close(resolve));
    }
  });

  it("loses nothing when the job engine is down while the user connects", async () => {
    await engine?.stop();
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const { eventId } = await connect(user.id, definition);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inbox.received).toHaveLength(0);

    await startEngine();
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("SUCCESS");
    expect(inbox.received).toHaveLength(1);
  });

  it("gives the healthy app exactly one delivery while another app keeps failing", async () => {
    const { user, owner, definition } = await setup();
    const healthy = await receiver();
    const broken = await receiver({ status: 503, body: "down" });
    const goodApp = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: healthy.url });
    const badApp = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: broken.url,
      maxRetries: 3,
      retryBaseDelayMs: 5,
    });

    const { eventId } = await connect(user.id, definition);
    const bad = await settled(eventId, badApp.id);
    const good = await settled(eventId, goodApp.id);
    expect(bad.status).toBe("FAILED");
    expect(bad.attempts).toHaveLength(4);
    expect(good.status).toBe("SUCCESS");
    expect(healthy.received).toHaveLength(1);
  });

  it("honours Retry-After on a 429", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    inbox.respondWith({ status: 429, headers: { "Retry-After": "2" } });
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });

    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("SUCCESS");
    const gap = inbox.received[1]!.receivedAt - inbox.received[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(1_900);
  });

  it("disables the app's webhook on 410 Gone and says why", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver({ status: 410, body: "gone" });
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });

    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("FAILED");
    expect(delivery.attempts).toHaveLength(1);
    const client = await prisma.oAuthClient.findUniqueOrThrow({ where: { id: app.id } });
    expect(client.webhookDisabledAt).not.toBeNull();
    expect(client.webhookDisabledReason).toMatch(/410 Gone/);
  });

  it("creates one delivery per app however often the event is fanned out", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const { eventId } = await connect(user.id, definition);
    const { fanOutIntegrationEvent } = await import("~/services/webhooks/integration-fanout.server");
    await Promise.all([fanOutIntegrationEvent(eventId), fanOutIntegrationEvent(eventId)]);
    await settled(eventId, app.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await prisma.webhookDelivery.count({ where: { eventId } })).toBe(1);
    expect(inbox.received).toHaveLength(1);
  });

  it("lets only the owner retry a failed delivery by hand, and then delivers it", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver({ status: 400, body: "not yet" });
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const { eventId } = await connect(user.id, definition);
    const failed = await settled(eventId, app.id);
    expect(failed.status).toBe("FAILED");

    const { retryDeliveryByHand } = await import("~/services/webhooks/retry-delivery.server");
    const stranger = await createUser(prisma);
    expect(await retryDeliveryByHand({ deliveryId: failed.id, ownerId: stranger.id })).toEqual({
      ok: false,
      status: 404,
      error: "No such delivery.",
    });

    inbox.setDefault({ status: 200 });
    expect(await retryDeliveryByHand({ deliveryId: failed.id, ownerId: owner.id })).toEqual({ ok: true });
    const delivered = await waitFor(async () => {
      const row = await deliveryFor(eventId, app.id);
      return row?.status === "SUCCESS" && row;
    });
    expect(delivered.attempts.map((a) => a.responseStatus)).toEqual([400, 200]);
    expect(await retryDeliveryByHand({ deliveryId: failed.id, ownerId: owner.id })).toMatchObject({
      ok: false,
      status: 409,
    });
  });

  it("refuses an event body over 256 KB and writes nothing", async () => {
    const { user, definition } = await setup();
    const { EventTooLargeError } = await import("~/services/webhooks/integration-events.server");
    const huge = { ...definition, name: "x".repeat(300 * 1024) };
    await expect(connectIntegration(prisma, { userId: user.id, definition: huge })).rejects.toBeInstanceOf(
      EventTooLargeError,
    );
    expect(await prisma.integrationAccount.count({ where: { userId: user.id } })).toBe(0);
    expect(await prisma.webhookEvent.count({ where: { userId: user.id } })).toBe(0);
  });

  it("fails, without sending anything unsigned, when the app's secret cannot sign", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      secret: "not-a-whsec-secret",
    });
    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("FAILED");
    expect(delivery.attempts[0]!.error).toMatch(/could not sign this delivery/);
    expect(inbox.received).toHaveLength(0);
  });

  it("signs with both secrets during a rotation's grace period, and only the new one after it", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver();
    const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
    const { encryptAtRest } = await import("~/services/encryption.server");
    const { generateWebhookSecret } = await import("~/lib/webhooks/secrets");
    const oldSecret = app.secret!;
    const newSecret = generateWebhookSecret();
    await prisma.oAuthClient.update({
      where: { id: app.id },
      data: {
        webhookSecret: encryptAtRest(newSecret),
        previousWebhookSecret: encryptAtRest(oldSecret),
        previousSecretExpiresAt: new Date(Date.now() + 3_600_000),
      },
    });
    const first = await connect(user.id, definition);
    await settled(first.eventId, app.id);
    const during = inbox.received[0]!;
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifyWebhook(during.body, during.headers as Record<string, string>, [oldSecret])).toMatchObject({
      ok: true,
    });
    expect(verifyWebhook(during.body, during.headers as Record<string, string>, [newSecret])).toMatchObject({
      ok: true,
    });

    await prisma.oAuthClient.update({
      where: { id: app.id },
      data: { previousSecretExpiresAt: new Date(Date.now() - 1_000) },
    });
    const second = await connect(user.id, definition);
    await settled(second.eventId, app.id);
    const after = inbox.received[1]!;
    expect(verifyWebhook(after.body, after.headers as Record<string, string>, [oldSecret])).toMatchObject({
      ok: false,
    });
    expect(verifyWebhook(after.body, after.headers as Record<string, string>, [newSecret])).toMatchObject({ ok: true });
  });

  it("disables an app whose webhook has failed without a success for longer than the limit", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver({ status: 500 });
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      maxRetries: 0,
    });
    await prisma.oAuthClient.update({
      where: { id: app.id },
      data: { webhookFailingSince: new Date(Date.now() - 6 * 24 * 3_600_000) },
    });
    const { eventId } = await connect(user.id, definition);
    await settled(eventId, app.id);
    const client = await prisma.oAuthClient.findUniqueOrThrow({ where: { id: app.id } });
    expect(client.webhookDisabledAt).not.toBeNull();
    expect(client.webhookDisabledReason).toMatch(/failed for more than 120 hours/);

    // A disabled app gets no new deliveries.
    const next = await connect(user.id, definition);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await prisma.webhookDelivery.count({ where: { eventId: next.eventId } })).toBe(0);
  });

  it("refuses to deliver to a private address that is not allowlisted", async () => {
    const { user, owner, definition } = await setup();
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: "http://10.255.255.1/hook",
    });
    const { eventId } = await connect(user.id, definition);
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("FAILED");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]!.error).toMatch(/Refused to connect to 10\.255\.255\.1/);
  });

  it("sends nothing once the app has removed its webhook URL, and says so", async () => {
    const { user, owner, definition } = await setup();
    const inbox = await receiver({ status: 503 });
    const app = await createOAuthApp(prisma, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: inbox.url,
      retryBaseDelayMs: 300,
    });
    const { eventId } = await connect(user.id, definition);
    await waitFor(async () => ((await deliveryFor(eventId, app.id))?.attempts.length ?? 0) >= 1);
    await prisma.oAuthClient.update({ where: { id: app.id }, data: { webhookUrl: null } });
    const delivery = await settled(eventId, app.id);
    expect(delivery.status).toBe("FAILED");
    expect(delivery.attempts.at(-1)!.error).toBe("The app no longer has a webhook URL.");
    expect(inbox.received).toHaveLength(1);
  });
});
