import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { verifyWebhook } from "~/lib/webhooks/signing";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn } from "~/services/jobs/task-catalog.server";
import { handleAccountMessage } from "~/services/integrations/handle-account-message.server";
import { markIntegrationUnhealthy } from "~/services/integrations/integration-health.server";
import { revokeAppAccess } from "~/services/oauth/authorization-server.server";
import { ServiceError } from "~/services/service-error.server";
import { listDeliveries, DeliveryListFiltersSchema } from "~/services/webhooks/delivery-log.server";
import { getEndpointStats } from "~/services/webhooks/endpoint-stats.server";
import {
  EndpointCreateSchema,
  MAX_ENDPOINTS_PER_USER,
  createEndpoint,
  pauseEndpoint,
  resumeEndpoint,
  retryFailedDeliveries,
  revealEndpointSecret,
  rotateEndpointSecret,
} from "~/services/webhooks/endpoints.server";
import { triggerOAuthIntegrationWebhook } from "~/services/webhooks/integration-events.server";
import { sendTestEvent } from "~/services/webhooks/test-event.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { waitFor } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

let engine: EmbeddedTaskEngine;
const receivers: WebhookReceiver[] = [];

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

beforeAll(async () => {
  const catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
  engine = new EmbeddedTaskEngine(catalog, {
    db: prisma,
    databaseUrl: process.env.DATABASE_URL as string,
    logger: pino({ level: "silent" }),
    leaseMs: 2_000,
    pollIntervalMs: 50,
  });
  await engine.start();
});

afterAll(async () => {
  await engine.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

function endpointInput(input: Record<string, unknown>) {
  return EndpointCreateSchema.parse({ name: "Receiver", retryBaseDelayMs: 1_000, timeoutMs: 5_000, ...input });
}

async function connect(userId: string) {
  const definition = await createIntegrationDefinition(prisma);
  const connected = await connectIntegration(prisma, { userId, definition });
  await triggerOAuthIntegrationWebhook(connected.account.id, userId);
  return { ...connected, definition };
}

function settledDelivery(eventId: string, endpointId: string) {
  return waitFor(async () => {
    const delivery = await prisma.webhookDelivery.findUnique({
      where: { eventId_endpointId: { eventId, endpointId } },
    });
    return delivery && (delivery.status === "SUCCESS" || delivery.status === "FAILED") ? delivery : null;
  });
}

describe("endpoints receive the events they subscribe to", () => {
  it("sends the signed envelope with custom headers to subscribed endpoints only, and the flat payload to OAuth apps", async () => {
    const user = await createUser(prisma);
    const stranger = await createUser(prisma);
    const [inbox, grantsOnly, switchedOff, strangers, appInbox] = await Promise.all([
      receiver(),
      receiver(),
      receiver(),
      receiver(),
      receiver(),
    ]);
    const all = await createEndpoint(
      { userId: user.id },
      endpointInput({ name: "Everything", url: inbox.url, customHeaders: { "X-Api-Key": "k-123" } }),
    );
    await createEndpoint(
      { userId: user.id },
      endpointInput({ url: grantsOnly.url, eventTypes: ["oauth.grant.created"] }),
    );
    await createEndpoint({ userId: user.id }, endpointInput({ url: switchedOff.url, enabled: false }));
    await createEndpoint({ userId: stranger.id }, endpointInput({ url: strangers.url }));
    const app = await createOAuthApp(prisma, { ownerId: stranger.id, grantUserId: user.id, webhookUrl: appInbox.url });

    const { eventId, account, definition } = await connect(user.id);
    const delivery = await settledDelivery(eventId, all.id);
    expect(delivery.status).toBe("SUCCESS");
    await appInbox.waitForCount(1);

    expect(inbox.received).toHaveLength(1);
    const request = inbox.received[0]!;
    const envelope = JSON.parse(request.body) as Record<string, Record<string, unknown>>;
    expect(Object.keys(envelope)).toEqual(["event", "webhook"]);
    expect(envelope.event).toEqual({
      id: `evt_${eventId}`,
      type: "integration.connected",
      timestamp: expect.stringMatching(/Z$/),
      userId: user.id,
      source: `integration:${account.id}`,
      payload: expect.objectContaining({ event: "integration.connected", user_id: user.id }),
    });
    expect((envelope.event!.payload as { integration: { provider: string } }).integration.provider).toBe(
      definition.slug,
    );
    expect(envelope.webhook).toEqual({ id: all.id, name: "Everything" });
    expect(request.headers["x-api-key"]).toBe("k-123");
    expect(request.headers["x-webhook-event"]).toBe("integration.connected");
    const secret = await revealEndpointSecret({ userId: user.id }, all.id);
    expect(verifyWebhook(request.body, request.headers, [secret])).toMatchObject({
      ok: true,
      format: "standard-webhooks",
    });
    // The attempt log keeps the header's name, never a credential-looking value.
    const attempt = await prisma.deliveryAttempt.findFirstOrThrow({ where: { deliveryId: delivery.id } });
    expect((attempt.requestHeaders as Record<string, string>)["X-Api-Key"]).toBe("[redacted]");

    // The OAuth app keeps the seed's flat payload.
    expect(Object.keys(JSON.parse(appInbox.received[0]!.body) as object)).toEqual([
      "event",
      "user_id",
      "integration",
      "timestamp",
    ]);
    expect(app.id).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(grantsOnly.received).toHaveLength(0);
    expect(switchedOff.received).toHaveLength(0);
    expect(strangers.received).toHaveLength(0);
  });

  it("tells endpoints about grants revoked in Connected apps", async () => {
    const user = await createUser(prisma);
    const developer = await createUser(prisma, "Developer");
    const inbox = await receiver();
    await createEndpoint({ userId: user.id }, endpointInput({ url: inbox.url, eventTypes: ["oauth.grant.revoked"] }));
    const app = await createOAuthApp(prisma, { ownerId: developer.id, grantUserId: user.id, webhookUrl: null });
    await prisma.oAuthConsent.create({
      data: { clientId: app.id, userId: user.id, scopes: ["openid", "integration"] },
    });

    expect(await revokeAppAccess(prisma, { userId: user.id, clientDbId: app.id })).toBe(true);
    await inbox.waitForCount(1);
    const envelope = JSON.parse(inbox.received[0]!.body) as { event: { type: string; payload: unknown } };
    expect(envelope.event.type).toBe("oauth.grant.revoked");
    expect(envelope.event.payload).toEqual({
      event: "oauth.grant.revoked",
      user_id: user.id,
      client: { id: app.clientId, name: expect.any(String) },
      scopes: ["openid", "integration"],
      timestamp: expect.any(String),
    });
  });

  it("records integration.health_warning once, and health_cleared when the account is reconnected", async () => {
    const user = await createUser(prisma);
    const inbox = await receiver();
    await createEndpoint(
      { userId: user.id },
      endpointInput({ url: inbox.url, eventTypes: ["integration.health_warning", "integration.health_cleared"] }),
    );
    const { account, definition } = await connect(user.id);
    expect(await markIntegrationUnhealthy({ integrationAccountId: account.id, reason: "Token refused (401)" })).toEqual(
      {
        changed: true,
      },
    );
    expect(await markIntegrationUnhealthy({ integrationAccountId: account.id, reason: "again" })).toEqual({
      changed: false,
    });
    await inbox.waitForCount(1);
    const warning = JSON.parse(inbox.received[0]!.body) as { event: { type: string; payload: { reason: string } } };
    expect(warning.event.type).toBe("integration.health_warning");
    expect(warning.event.payload.reason).toBe("Token refused (401)");
    expect(await prisma.integrationAccount.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({
      status: "ERROR",
    });

    await handleAccountMessage({
      userId: user.id,
      definition,
      message: {
        type: "account",
        data: { accountId: account.accountId, displayName: "Acme", settings: {}, credentials: { token: "new" } },
      },
    });
    await inbox.waitForCount(2);
    const cleared = JSON.parse(inbox.received[1]!.body) as { event: { type: string; payload: { reason: string } } };
    expect(cleared.event.type).toBe("integration.health_cleared");
    expect(await prisma.integrationAccount.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({
      status: "ACTIVE",
    });
  });
});

describe("pause, rate limit and recovery", () => {
  it("holds deliveries while paused and sends every one of them on resume", async () => {
    const user = await createUser(prisma);
    const inbox = await receiver();
    const endpoint = await createEndpoint({ userId: user.id }, endpointInput({ url: inbox.url }));
    await pauseEndpoint({ userId: user.id }, endpoint.id);

    const first = await connect(user.id);
    const second = await connect(user.id);
    await waitFor(async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id } })) === 2);
    // The delivery queue sets them aside without sending: held (no due time) until the resume.
    await waitFor(
      async () =>
        (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, nextAttemptAt: null } })) === 2,
    );
    expect(inbox.received).toHaveLength(0);
    expect(await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: "PENDING" } })).toBe(2);

    await resumeEndpoint({ userId: user.id }, endpoint.id);
    await inbox.waitForCount(2);
    expect((await settledDelivery(first.eventId, endpoint.id)).status).toBe("SUCCESS");
    expect((await settledDelivery(second.eventId, endpoint.id)).status).toBe("SUCCESS");
  });

  it("defers deliveries past the per-minute limit to the next window instead of dropping them", async () => {
    const user = await createUser(prisma);
    const inbox = await receiver();
    const endpoint = await createEndpoint({ userId: user.id }, endpointInput({ url: inbox.url }));
    await prisma.webhookEndpoint.update({ where: { id: endpoint.id }, data: { rateLimitPerMinute: 2 } });

    for (let i = 0; i < 4; i++) await connect(user.id);
    await inbox.waitForCount(2);
    const waiting = await waitFor(async () => {
      const rows = await prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id, status: "PENDING" } });
      return rows.length === 2 ? rows : null;
    });
    // The two others wait for the next minute's window.
    const deferred = await waitFor(async () => {
      const rows = await prisma.webhookDelivery.findMany({
        where: { id: { in: waiting.map((d) => d.id) }, status: "PENDING", nextAttemptAt: { gt: new Date() } },
      });
      return rows.length === 2 ? rows : null;
    });
    for (const delivery of deferred) expect(delivery.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(inbox.received).toHaveLength(2);

    // The next window arrives (time travel instead of a minute's wait): all four are delivered.
    await prisma.rateLimitBucket.deleteMany({ where: { key: `endpoint-deliveries:${endpoint.id}` } });
    await prisma.webhookDelivery.updateMany({
      where: { id: { in: deferred.map((delivery) => delivery.id) } },
      data: { nextAttemptAt: new Date() },
    });
    await inbox.waitForCount(4);
    await waitFor(
      async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: "SUCCESS" } })) === 4,
    );
    expect(inbox.received).toHaveLength(4);
  });

  it("retries every failed delivery since a time, once each", async () => {
    const user = await createUser(prisma);
    const inbox = await receiver({ status: 400, body: "bad" });
    const endpoint = await createEndpoint({ userId: user.id }, endpointInput({ url: inbox.url }));
    const since = new Date();
    const a = await connect(user.id);
    const b = await connect(user.id);
    expect((await settledDelivery(a.eventId, endpoint.id)).status).toBe("FAILED");
    expect((await settledDelivery(b.eventId, endpoint.id)).status).toBe("FAILED");

    inbox.setDefault({ status: 204 });
    expect(await retryFailedDeliveries({ userId: user.id }, endpoint.id, since)).toEqual({ queued: 2 });
    await inbox.waitForCount(4);
    await waitFor(
      async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: "SUCCESS" } })) === 2,
    );
    expect(await retryFailedDeliveries({ userId: user.id }, endpoint.id, since)).toEqual({ queued: 0 });
  });
});

describe("endpoint management", () => {
  it("allows at most 10 endpoints per user, even when created concurrently", async () => {
    const user = await createUser(prisma);
    const attempts = await Promise.allSettled(
      Array.from({ length: MAX_ENDPOINTS_PER_USER + 3 }, (_, i) =>
        createEndpoint({ userId: user.id }, endpointInput({ name: `E${i}`, url: "http://127.0.0.1:9/hook" })),
      ),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(MAX_ENDPOINTS_PER_USER);
    for (const failure of attempts.filter((a) => a.status === "rejected")) {
      expect((failure as PromiseRejectedResult).reason).toBeInstanceOf(ServiceError);
      expect((failure as PromiseRejectedResult).reason).toMatchObject({ status: 409 });
    }
  });

  it("refuses private destinations and bad secrets, and keeps the old secret signing after a rotation", async () => {
    const user = await createUser(prisma);
    await expect(
      createEndpoint({ userId: user.id }, endpointInput({ url: "http://169.254.169.254/latest/meta-data" })),
    ).rejects.toMatchObject({ status: 400, field: "url" });
    expect(EndpointCreateSchema.safeParse({ name: "x", url: "https://example.com", secret: "nope" }).success).toBe(
      false,
    );
    expect(EndpointCreateSchema.safeParse({ name: "x", url: "https://example.com", extra: 1 }).success).toBe(false);

    const inbox = await receiver();
    const endpoint = await createEndpoint({ userId: user.id }, endpointInput({ url: inbox.url }));
    const oldSecret = await revealEndpointSecret({ userId: user.id }, endpoint.id);
    const { secret: newSecret } = await rotateEndpointSecret({ userId: user.id }, endpoint.id, undefined);
    expect(newSecret).not.toBe(oldSecret);
    const result = await sendTestEvent({ userId: user.id }, endpoint.id);
    expect(result).toMatchObject({ outcome: "delivered", attempt: { responseStatus: 200 } });
    const request = inbox.received[0]!;
    expect(verifyWebhook(request.body, request.headers, [oldSecret]).ok).toBe(true);
    expect(verifyWebhook(request.body, request.headers, [newSecret]).ok).toBe(true);
    expect((JSON.parse(request.body) as { event: { type: string } }).event.type).toBe("webhook.test");
  });

  it("returns a failing test send's answer and keeps it queued for retry", async () => {
    const user = await createUser(prisma);
    const inbox = await receiver({ status: 503, body: "down for maintenance" });
    const endpoint = await createEndpoint(
      { userId: user.id },
      endpointInput({ url: inbox.url, retryBaseDelayMs: 1_000 }),
    );
    const result = await sendTestEvent({ userId: user.id }, endpoint.id);
    expect(result).toMatchObject({
      outcome: "retry",
      attempt: { responseStatus: 503, responseBody: "down for maintenance", error: "HTTP 503" },
    });
    inbox.setDefault({ status: 200 });
    await inbox.waitForCount(2, 10_000);
    await waitFor(
      async () =>
        (await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: result.deliveryId } })).status === "SUCCESS",
    );
  });

  it("lets an OAuth app see only the endpoints and deliveries it registered for the user", async () => {
    const user = await createUser(prisma);
    const developer = await createUser(prisma, "Developer");
    const app = await createOAuthApp(prisma, { ownerId: developer.id, grantUserId: user.id, webhookUrl: null });
    const inbox = await receiver();
    const own = await createEndpoint({ userId: user.id }, endpointInput({ url: inbox.url }));
    const appOwned = await createEndpoint(
      { userId: user.id, oauthClientId: app.id },
      endpointInput({ url: inbox.url }),
    );
    await sendTestEvent({ userId: user.id }, own.id);
    await sendTestEvent({ userId: user.id, oauthClientId: app.id }, appOwned.id);
    await expect(sendTestEvent({ userId: user.id, oauthClientId: app.id }, own.id)).rejects.toMatchObject({
      status: 404,
    });

    const asApp = await listDeliveries({ userId: user.id, oauthClientId: app.id }, DeliveryListFiltersSchema.parse({}));
    expect(asApp.deliveries.map((d) => d.endpointId)).toEqual([appOwned.id]);
    const asUser = await listDeliveries({ userId: user.id }, DeliveryListFiltersSchema.parse({}));
    expect(asUser.deliveries.map((d) => d.endpointId).sort()).toEqual([own.id, appOwned.id].sort());
  });
});

describe("delivery log and stats", () => {
  it("pages through deliveries with a cursor and filters by status, type and endpoint", async () => {
    const user = await createUser(prisma);
    const ok = await receiver();
    const failing = await receiver({ status: 422 });
    const good = await createEndpoint({ userId: user.id }, endpointInput({ url: ok.url }));
    const bad = await createEndpoint({ userId: user.id }, endpointInput({ url: failing.url }));
    for (let i = 0; i < 3; i++) {
      await sendTestEvent({ userId: user.id }, good.id);
      await sendTestEvent({ userId: user.id }, bad.id);
    }
    const actor = { userId: user.id };
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listDeliveries(actor, DeliveryListFiltersSchema.parse({ limit: 4, cursor }));
      seen.push(...page.deliveries.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);

    const failed = await listDeliveries(actor, DeliveryListFiltersSchema.parse({ status: "FAILED" }));
    expect(failed.deliveries.map((d) => d.endpointId)).toEqual([bad.id, bad.id, bad.id]);
    const byEndpoint = await listDeliveries(actor, DeliveryListFiltersSchema.parse({ endpointId: good.id }));
    expect(byEndpoint.deliveries.every((d) => d.status === "SUCCESS")).toBe(true);
    const byType = await listDeliveries(actor, DeliveryListFiltersSchema.parse({ eventType: "oauth.grant.created" }));
    expect(byType.deliveries).toHaveLength(0);
    await expect(listDeliveries(actor, DeliveryListFiltersSchema.parse({ cursor: "garbage" }))).rejects.toMatchObject({
      status: 400,
    });
    expect(DeliveryListFiltersSchema.safeParse({ status: "DONE" }).success).toBe(false);

    const stats = await getEndpointStats(actor, bad.id, "1h");
    expect(stats.counts).toMatchObject({ FAILED: 3, SUCCESS: 0, total: 3 });
    expect(stats.successRate).toBe(0);
    const goodStats = await getEndpointStats(actor, good.id, "24h");
    expect(goodStats.counts).toMatchObject({ SUCCESS: 3, total: 3 });
    expect(goodStats.successRate).toBe(1);
    expect(goodStats.responseTimeMs.p50).toBeGreaterThanOrEqual(0);
    expect(goodStats.responseTimeMs.p99).toBeGreaterThanOrEqual(goodStats.responseTimeMs.p50!);
    expect(goodStats.series).toHaveLength(24);
    expect(goodStats.series.reduce((sum, point) => sum + point.counts.SUCCESS, 0)).toBe(3);
    await expect(getEndpointStats({ userId: (await createUser(prisma)).id }, good.id, "1h")).rejects.toMatchObject({
      status: 404,
    });
  });
});
