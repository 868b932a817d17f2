import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { prisma } from "~/db.server";
import { verifyWebhook } from "~/lib/webhooks/signing";
import { ApiDeliveryDetailSchema, ApiDeliveryListSchema } from "~/presenters/ApiDeliveryPresenter.server";
import {
  ApiEndpointCreatedSchema,
  ApiEndpointListSchema,
  ApiEndpointSchema,
  ApiRotatedSecretSchema,
} from "~/presenters/ApiEndpointPresenter.server";
import { ApiTestSendSchema } from "~/presenters/ApiTestSendPresenter.server";
import { EndpointStatsSchema } from "~/services/webhooks/endpoint-stats.server";
import { apiUser } from "../support/api-client";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { waitFor } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

let echo: RunningEcho;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

const developer = () => apiUser(prisma, echo.url);

type Endpoint = Record<string, unknown> & { id: string; secret?: string };
type Problem = { status: number; title: string; detail?: string; errors?: { field: string | null; message: string }[] };

async function createEndpoint(call: Awaited<ReturnType<typeof developer>>["call"], input: Record<string, unknown>) {
  const response = await call("/endpoints", {
    method: "POST",
    json: { name: "Receiver", timeoutMs: 5_000, retryBaseDelayMs: 1_000, ...input },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Endpoint & { secret: string };
}

async function expectProblem(response: Response, status: number, field?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as Problem;
  expect(problem.status).toBe(status);
  expect(problem.title).toBeTruthy();
  if (field !== undefined) expect(problem.errors?.map((e) => e.field ?? "")).toContain(field);
  return problem;
}

describe("GET /api/v1/event-types", () => {
  it("lists the catalog with each payload's JSON Schema and an example", async () => {
    const me = await developer();
    const response = await me.call("/event-types");
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as {
      data: { type: string; description: string; schema: Record<string, unknown>; example: unknown }[];
    };
    expect(data.map((t) => t.type)).toEqual(expect.arrayContaining(["integration.connected", "webhook.test"]));
    const test = data.find((t) => t.type === "webhook.test")!;
    expect(test.description).toMatch(/Sent on request/);
    expect(test.schema).toMatchObject({ type: "object", properties: { event: { const: "webhook.test" } } });
    expect(test.example).toMatchObject({ event: "webhook.test" });
  });
});

describe("endpoints: create, read, change, rotate, reveal, pause, resume, stats, delete", () => {
  it("creates an endpoint and returns its secret once, never again outside reveal", async () => {
    const me = await developer();
    const response = await me.call("/endpoints", {
      method: "POST",
      json: {
        name: "Orders",
        url: "https://hooks.example.com/echo",
        eventTypes: ["oauth.grant.created", "oauth.grant.created"],
        customHeaders: { "X-Api-Key": "k-secret-123", "X-Tenant": "acme" },
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const created = (await response.json()) as Endpoint & { secret: string };
    expect(response.headers.get("location")).toBe(`/api/v1/endpoints/${created.id}`);
    expect(created).toMatchObject({
      name: "Orders",
      url: "https://hooks.example.com/echo",
      eventTypes: ["oauth.grant.created"],
      enabled: true,
      paused: false,
      disabledReason: null,
      oauthAppId: null,
      maxRetries: 7,
      timeoutMs: 30_000,
      rateLimitPerMinute: 100,
      customHeaders: { "X-Api-Key": "[redacted]", "X-Tenant": "acme" },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    expect(created.secret).toMatch(/^whsec_/);

    const list = (await (await me.call("/endpoints")).json()) as { data: Endpoint[] };
    expect(list.data.map((e) => e.id)).toEqual([created.id]);
    const read = (await (await me.call(`/endpoints/${created.id}`)).json()) as Endpoint;
    for (const shown of [list.data[0]!, read]) {
      expect(JSON.stringify(shown)).not.toContain(created.secret);
      expect(JSON.stringify(shown)).not.toContain("k-secret-123");
      expect(shown).not.toHaveProperty("secret");
    }

    const revealed = await me.call(`/endpoints/${created.id}/secret`);
    expect(revealed.headers.get("cache-control")).toBe("no-store");
    expect(await revealed.json()).toEqual({ secret: created.secret });
  });

  it("changes an endpoint with PATCH, and keeps unchanged fields", async () => {
    const me = await developer();
    const endpoint = await createEndpoint(me.call, { url: "https://hooks.example.com/a", maxRetries: 3 });
    const response = await me.call(`/endpoints/${endpoint.id}`, {
      method: "PATCH",
      json: { name: "Renamed", eventTypes: ["webhook.test"], enabled: false, customHeaders: { "X-Env": "prod" } },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: endpoint.id,
      name: "Renamed",
      url: "https://hooks.example.com/a",
      eventTypes: ["webhook.test"],
      enabled: false,
      maxRetries: 3,
      customHeaders: { "X-Env": "prod" },
    });
    expect(await (await me.call(`/endpoints/${endpoint.id}`)).json()).toMatchObject({ name: "Renamed" });
  });

  it("keeps a redacted header's stored value when a client sends the headers back as it read them", async () => {
    const me = await developer();
    const inbox = await receiver();
    const endpoint = await createEndpoint(me.call, {
      url: inbox.url,
      customHeaders: { "X-Api-Key": "k-stored", "X-Tenant": "acme" },
    });
    const read = (await (await me.call(`/endpoints/${endpoint.id}`)).json()) as {
      customHeaders: Record<string, string>;
    };
    expect(read.customHeaders).toEqual({ "X-Api-Key": "[redacted]", "X-Tenant": "acme" });
    const patched = await me.call(`/endpoints/${endpoint.id}`, {
      method: "PATCH",
      json: { customHeaders: { ...read.customHeaders, "X-Tenant": "globex", "X-Auth-Token": "[redacted]" } },
    });
    expect(patched.status).toBe(200);
    await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" });
    expect(inbox.received[0]!.headers).toMatchObject({
      "x-api-key": "k-stored",
      "x-tenant": "globex",
      // No stored value to keep: the placeholder is what the client asked for.
      "x-auth-token": "[redacted]",
    });
  });

  it("rotates the secret (generated or supplied) with a 24-hour grace for the previous one", async () => {
    const me = await developer();
    const endpoint = await createEndpoint(me.call, { url: "https://hooks.example.com/r" });
    const rotated = await me.call(`/endpoints/${endpoint.id}/rotate-secret`, { method: "POST" });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get("cache-control")).toBe("no-store");
    const first = (await rotated.json()) as { secret: string; previousSecretExpiresAt: string };
    expect(first.secret).toMatch(/^whsec_/);
    expect(first.secret).not.toBe(endpoint.secret);
    const grace = new Date(first.previousSecretExpiresAt).getTime() - Date.now();
    expect(grace).toBeGreaterThan(23.9 * 3_600_000);
    expect(grace).toBeLessThanOrEqual(24 * 3_600_000);
    expect(await (await me.call(`/endpoints/${endpoint.id}`)).json()).toMatchObject({
      previousSecretExpiresAt: first.previousSecretExpiresAt,
    });

    const mine = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    const supplied = await me.call(`/endpoints/${endpoint.id}/rotate-secret`, {
      method: "POST",
      json: { secret: mine },
    });
    expect(await supplied.json()).toMatchObject({ secret: mine });
    expect(await (await me.call(`/endpoints/${endpoint.id}/secret`)).json()).toEqual({ secret: mine });

    await expectProblem(
      await me.call(`/endpoints/${endpoint.id}/rotate-secret`, { method: "POST", json: { secret: "not-a-secret" } }),
      400,
      "secret",
    );
    await expectProblem(
      await me.call(`/endpoints/${endpoint.id}/rotate-secret`, { method: "POST", json: { secret: mine, extra: 1 } }),
      400,
    );
    await expectProblem(
      await me.call(`/endpoints/${endpoint.id}/rotate-secret`, {
        method: "POST",
        body: "secret=x",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
      415,
    );
  });

  it("pauses and resumes: a paused endpoint's test send waits, and goes out on resume", async () => {
    const me = await developer();
    const inbox = await receiver();
    const endpoint = await createEndpoint(me.call, { url: inbox.url });
    const paused = await me.call(`/endpoints/${endpoint.id}/pause`, { method: "POST" });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ paused: true, pausedAt: expect.any(String) });

    const test = (await (await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" })).json()) as {
      outcome: string;
      response: unknown;
    };
    expect(test).toMatchObject({ outcome: "paused", response: null });
    expect(inbox.received).toHaveLength(0);

    const resumed = await me.call(`/endpoints/${endpoint.id}/resume`, { method: "POST" });
    expect(await resumed.json()).toMatchObject({ paused: false, pausedAt: null });
    await inbox.waitForCount(1);
  });

  it("reports stats for a window, and refuses an unknown window or parameter", async () => {
    const me = await developer();
    const inbox = await receiver();
    const endpoint = await createEndpoint(me.call, { url: inbox.url });
    await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" });
    const response = await me.call(`/endpoints/${endpoint.id}/stats?window=1h`);
    expect(response.status).toBe(200);
    const stats = (await response.json()) as { window: string; counts: Record<string, number>; series: unknown[] };
    expect(stats).toMatchObject({ endpointId: endpoint.id, window: "1h", successRate: 1 });
    expect(stats.counts).toMatchObject({ SUCCESS: 1, total: 1 });
    expect(stats.series.length).toBeGreaterThanOrEqual(12);
    expect(await (await me.call(`/endpoints/${endpoint.id}/stats`)).json()).toMatchObject({ window: "24h" });
    await expectProblem(await me.call(`/endpoints/${endpoint.id}/stats?window=2h`), 400, "window");
    await expectProblem(await me.call(`/endpoints/${endpoint.id}/stats?window=1h&extra=1`), 400);
    await expectProblem(await me.call(`/endpoints/${endpoint.id}/stats?window=1h&window=24h`), 400, "window");
  });

  it("deletes an endpoint with 204; it is then not found", async () => {
    const me = await developer();
    const endpoint = await createEndpoint(me.call, { url: "https://hooks.example.com/d" });
    const deleted = await me.call(`/endpoints/${endpoint.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    await expectProblem(await me.call(`/endpoints/${endpoint.id}`), 404);
    await expectProblem(await me.call(`/endpoints/${endpoint.id}`, { method: "DELETE" }), 404);
  });
});

describe("test sends and the delivery log", () => {
  it("sends a signed webhook.test and returns what the receiver answered", async () => {
    const me = await developer();
    const inbox = await receiver({ status: 202, body: "thanks" });
    const endpoint = await createEndpoint(me.call, { url: inbox.url, customHeaders: { "X-Api-Key": "k-1" } });
    const response = await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" });
    expect(response.status).toBe(200);
    const result = (await response.json()) as {
      outcome: string;
      deliveryId: string;
      eventId: string;
      response: { status: number; body: string; durationMs: number; error: string | null };
    };
    expect(result).toMatchObject({
      outcome: "delivered",
      eventId: expect.stringMatching(/^evt_/),
      response: { status: 202, body: "thanks", error: null, durationMs: expect.any(Number) },
    });
    expect(inbox.received).toHaveLength(1);
    const request = inbox.received[0]!;
    expect(request.headers["webhook-id"]).toBe(result.deliveryId);
    expect(request.headers["x-api-key"]).toBe("k-1");
    const verified = verifyWebhook(request.body, request.headers as Record<string, string>, [endpoint.secret]);
    expect(verified.ok).toBe(true);
    expect(JSON.parse(request.body)).toMatchObject({ event: { id: result.eventId, type: "webhook.test" } });

    const detail = await me.call(`/deliveries/${result.deliveryId}`);
    expect(detail.status).toBe(200);
    const delivery = (await detail.json()) as {
      status: string;
      eventId: string;
      endpointId: string;
      requestBody: string;
      attempts: { request: { headers: Record<string, string> }; response: { status: number; body: string } }[];
    };
    expect(delivery).toMatchObject({
      status: "SUCCESS",
      eventId: result.eventId,
      endpointId: endpoint.id,
      requestBody: request.body,
    });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]!.response).toMatchObject({ status: 202, body: "thanks" });
    const sentHeaders = Object.fromEntries(
      Object.entries(delivery.attempts[0]!.request.headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(sentHeaders["webhook-signature"]).toBe("[redacted]");
    expect(sentHeaders["x-api-key"]).toBe("[redacted]");
    expect(JSON.stringify(delivery)).not.toContain(endpoint.secret);
  });

  it("reports a retryable failure with the receiver's status and body, and keeps it queued", async () => {
    const me = await developer();
    const inbox = await receiver({ status: 503, body: "down for maintenance" });
    const endpoint = await createEndpoint(me.call, { url: inbox.url });
    const result = (await (await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" })).json()) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({
      outcome: "retry",
      response: { status: 503, body: "down for maintenance" },
      nextAttemptAt: expect.any(String),
    });
    const detail = (await (await me.call(`/deliveries/${result.deliveryId as string}`)).json()) as Record<
      string,
      unknown
    >;
    expect(detail.status).toBe("RETRYING");
  });

  it("pages through deliveries with a cursor and combines filters", async () => {
    const me = await developer();
    const inbox = await receiver();
    const a = await createEndpoint(me.call, { url: inbox.url, name: "A" });
    const b = await createEndpoint(me.call, { url: inbox.url, name: "B" });
    const sent: string[] = [];
    for (const endpoint of [a, a, a, b]) {
      const result = (await (await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" })).json()) as {
        deliveryId: string;
      };
      sent.push(result.deliveryId);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = (await (await me.call(`/deliveries${query}`)).json()) as {
        data: { id: string; targetName: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.data.map((d) => d.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual([...sent].reverse());

    const onlyA = (await (
      await me.call(`/deliveries?endpointId=${a.id}&status=SUCCESS&eventType=webhook.test`)
    ).json()) as { data: { endpointId: string; targetName: string }[] };
    expect(onlyA.data).toHaveLength(3);
    expect(onlyA.data.every((d) => d.endpointId === a.id && d.targetName === "A")).toBe(true);
    const none = (await (await me.call(`/deliveries?status=FAILED`)).json()) as { data: unknown[] };
    expect(none.data).toEqual([]);
    const future = new Date(Date.now() + 60_000).toISOString();
    const later = (await (await me.call(`/deliveries?since=${encodeURIComponent(future)}`)).json()) as {
      data: unknown[];
    };
    expect(later.data).toEqual([]);
  });

  it("refuses bad delivery-log queries with the field", async () => {
    const me = await developer();
    await expectProblem(await me.call("/deliveries?limit=101"), 400, "limit");
    await expectProblem(await me.call("/deliveries?limit=0"), 400, "limit");
    await expectProblem(await me.call("/deliveries?limit=ten"), 400, "limit");
    await expectProblem(await me.call("/deliveries?cursor=bm90LWEtY3Vyc29y"), 400, "cursor");
    await expectProblem(await me.call("/deliveries?status=LOST"), 400, "status");
    await expectProblem(await me.call("/deliveries?eventType=Not%20A%20Type"), 400, "eventType");
    await expectProblem(await me.call("/deliveries?since=yesterday"), 400, "since");
    await expectProblem(
      await me.call("/deliveries?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z"),
      400,
      "since",
    );
    await expectProblem(await me.call("/deliveries?page=2"), 400);
  });

  it("retries a failed delivery by hand, and refuses one that did not fail", async () => {
    const me = await developer();
    const inbox = await receiver({ status: 400, body: "bad" });
    const endpoint = await createEndpoint(me.call, { url: inbox.url });
    const result = (await (await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" })).json()) as {
      outcome: string;
      deliveryId: string;
    };
    expect(result.outcome).toBe("failed");
    inbox.setDefault({ status: 200, body: "ok" });
    const retried = await me.call(`/deliveries/${result.deliveryId}/retry`, { method: "POST" });
    expect(retried.status).toBe(202);
    expect(await retried.json()).toMatchObject({ id: result.deliveryId, status: "RETRYING" });
    await inbox.waitForCount(2);
    const done = await waitFor(async () => {
      const delivery = (await (await me.call(`/deliveries/${result.deliveryId}`)).json()) as {
        status: string;
        attempts: unknown[];
      };
      return delivery.status === "SUCCESS" ? delivery : null;
    });
    expect(done.attempts).toHaveLength(2);
    await expectProblem(await me.call(`/deliveries/${result.deliveryId}/retry`, { method: "POST" }), 409);
  });

  it("retries every failed delivery since a time, and refuses a bad `since`", async () => {
    const me = await developer();
    const inbox = await receiver({ status: 400 });
    const endpoint = await createEndpoint(me.call, { url: inbox.url });
    const before = new Date(Date.now() - 1_000).toISOString();
    await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" });
    await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" });
    inbox.setDefault({ status: 200 });
    const response = await me.call(`/endpoints/${endpoint.id}/retry-failed`, {
      method: "POST",
      json: { since: before },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ queued: 2 });
    await inbox.waitForCount(4);

    const path = `/endpoints/${endpoint.id}/retry-failed`;
    await expectProblem(await me.call(path, { method: "POST", json: { since: "last week" } }), 400, "since");
    await expectProblem(await me.call(path, { method: "POST", json: { since: 1700000000 } }), 400, "since");
    await expectProblem(await me.call(path, { method: "POST", json: {} }), 400, "since");
    await expectProblem(await me.call(path, { method: "POST", json: { since: before, all: true } }), 400);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await expectProblem(await me.call(path, { method: "POST", json: { since: future } }), 400, "since");
    await expectProblem(await me.call(path, { method: "POST" }), 415);
  });
});

describe("bad input is refused with the field and the reason", () => {
  const valid = { name: "Hook", url: "https://hooks.example.com/x" };

  it.each([
    ["an unknown field", { ...valid, extra: true }, ""],
    ["a missing url", { name: "Hook" }, "url"],
    ["an empty name", { ...valid, name: "" }, "name"],
    ["a name of the wrong type", { ...valid, name: 42 }, "name"],
    ["a url that is not one", { ...valid, url: "not a url" }, "url"],
    ["a metadata address", { ...valid, url: "http://169.254.169.254/latest/meta-data" }, "url"],
    ["a private address", { ...valid, url: "http://10.1.2.3/hook" }, "url"],
    ["a non-http scheme", { ...valid, url: "ftp://hooks.example.com/x" }, "url"],
    ["an unknown event type", { ...valid, eventTypes: ["user.deleted"] }, "eventTypes"],
    ["an event type that is not a type's name", { ...valid, eventTypes: ["User Deleted"] }, "eventTypes.0"],
    ["event types as a string", { ...valid, eventTypes: "webhook.test" }, "eventTypes"],
    ["maxRetries over 10", { ...valid, maxRetries: 11 }, "maxRetries"],
    ["maxRetries as a string", { ...valid, maxRetries: "3" }, "maxRetries"],
    ["a timeout under 5 s", { ...valid, timeoutMs: 1_000 }, "timeoutMs"],
    ["a malformed secret", { ...valid, secret: "whsec_short" }, "secret"],
    ["a CRLF in a header value", { ...valid, customHeaders: { "X-A": "ok\r\nX-Injected: 1" } }, "customHeaders.X-A"],
    ["a LF in a header value", { ...valid, customHeaders: { "X-A": "ok\nX-Injected: 1" } }, "customHeaders.X-A"],
    ["a CRLF in a header name", { ...valid, customHeaders: { "X-A\r\nX-B": "v" } }, "customHeaders"],
    ["a reserved header", { ...valid, customHeaders: { "Content-Type": "text/plain" } }, "customHeaders"],
    ["a signature header", { ...valid, customHeaders: { "Webhook-Signature": "v1,x" } }, "customHeaders"],
    ["the Host header", { ...valid, customHeaders: { host: "evil.example.com" } }, "customHeaders"],
    ["a header value that is not a string", { ...valid, customHeaders: { "X-A": 1 } }, "customHeaders.X-A"],
    [
      "21 custom headers",
      { ...valid, customHeaders: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, "v"])) },
      "customHeaders",
    ],
  ])("POST /endpoints refuses %s", async (_name, body, field) => {
    const me = await developer();
    const problem = await expectProblem(await me.call("/endpoints", { method: "POST", json: body }), 400);
    expect(problem.errors?.map((e) => e.field ?? "").some((f) => f.startsWith(field))).toBe(true);
    expect(problem.errors!.every((e) => e.message.length > 0)).toBe(true);
    expect(await prisma.webhookEndpoint.count({ where: { ownerId: me.userId } })).toBe(0);
  });

  it("PATCH refuses unknown fields, an empty change, wrong types, private URLs and header injection", async () => {
    const me = await developer();
    const endpoint = await createEndpoint(me.call, { url: "https://hooks.example.com/p" });
    const path = `/endpoints/${endpoint.id}`;
    await expectProblem(await me.call(path, { method: "PATCH", json: { secret: "whsec_x" } }), 400);
    await expectProblem(await me.call(path, { method: "PATCH", json: {} }), 400);
    await expectProblem(await me.call(path, { method: "PATCH", json: { enabled: "yes" } }), 400, "enabled");
    await expectProblem(await me.call(path, { method: "PATCH", json: { url: "http://127.0.0.2:1/x" } }), 400, "url");
    await expectProblem(
      await me.call(path, { method: "PATCH", json: { customHeaders: { "X-A": "a\r\nb" } } }),
      400,
      "customHeaders.X-A",
    );
    await expectProblem(await me.call(path, { method: "PATCH", json: [] }), 400);
    await expectProblem(
      await me.call(path, { method: "PATCH", body: "{", headers: { "Content-Type": "application/json" } }),
      400,
    );
    await expectProblem(
      await me.call(path, { method: "PATCH", body: "name=x", headers: { "Content-Type": "text/plain" } }),
      415,
    );
    expect(await (await me.call(path)).json()).toMatchObject({ url: "https://hooks.example.com/p" });
  });

  it("POST /endpoints refuses non-JSON and malformed bodies", async () => {
    const me = await developer();
    await expectProblem(
      await me.call("/endpoints", { method: "POST", body: "name=x", headers: { "Content-Type": "text/plain" } }),
      415,
    );
    await expectProblem(await me.call("/endpoints", { method: "POST", body: "name=x" }), 415);
    await expectProblem(
      await me.call("/endpoints", { method: "POST", body: "{nope", headers: { "Content-Type": "application/json" } }),
      400,
    );
  });

  it("refuses the 11th endpoint with 409", async () => {
    const me = await developer();
    for (let i = 0; i < 10; i++) await createEndpoint(me.call, { url: `https://hooks.example.com/${i}` });
    const problem = await expectProblem(
      await me.call("/endpoints", {
        method: "POST",
        json: { name: "One too many", url: "https://hooks.example.com/x" },
      }),
      409,
    );
    expect(problem.detail).toMatch(/at most 10 endpoints/);
  });

  it("answers 404 for an id that cannot be an endpoint's or a delivery's", async () => {
    const me = await developer();
    const id = "x".repeat(150);
    for (const [path, init] of [
      [`/endpoints/${id}`, {}],
      [`/endpoints/${id}`, { method: "PATCH", json: { name: "x" } }],
      [`/endpoints/${id}/secret`, {}],
      [`/endpoints/${id}/test`, { method: "POST" }],
      [`/deliveries/${id}`, {}],
      [`/deliveries/${id}/retry`, { method: "POST" }],
    ] as const) {
      await expectProblem(await me.call(path, init), 404);
    }
  });

  it.each([
    ["PUT", "/endpoints", "GET, POST"],
    ["DELETE", "/endpoints", "GET, POST"],
    ["POST", "/endpoints/ep", "GET, PATCH, DELETE"],
    ["PUT", "/endpoints/ep", "GET, PATCH, DELETE"],
    ["GET", "/endpoints/ep/rotate-secret", "POST"],
    ["POST", "/endpoints/ep/secret", "GET"],
    ["GET", "/endpoints/ep/test", "POST"],
    ["GET", "/endpoints/ep/pause", "POST"],
    ["DELETE", "/endpoints/ep/resume", "POST"],
    ["GET", "/endpoints/ep/retry-failed", "POST"],
    ["POST", "/endpoints/ep/stats", "GET"],
    ["POST", "/deliveries", "GET"],
    ["DELETE", "/deliveries/d", "GET"],
    ["GET", "/deliveries/d/retry", "POST"],
    ["DELETE", "/event-types", "GET, POST"],
    ["GET", "/events", "POST"],
    ["PUT", "/events/batch", "POST"],
  ])("answers %s %s with 405 and Allow: %s", async (method, path, allow) => {
    const me = await developer();
    const response = await me.call(path, { method });
    await expectProblem(response, 405);
    expect(response.headers.get("allow")).toBe(allow);
  });
});

describe("answers match the schemas the OpenAPI document is generated from", () => {
  // Strict at the top level: a field the document does not describe fails here.
  const strictly = (schema: z.ZodObject) => schema.strict();

  it("for endpoints, secrets, test sends, deliveries and stats", async () => {
    const me = await developer();
    const inbox = await receiver();
    const created = await me.call("/endpoints", {
      method: "POST",
      json: { name: "Shapes", url: inbox.url, customHeaders: { "X-Token": "t" } },
    });
    const endpoint = strictly(ApiEndpointCreatedSchema).parse(await created.json());
    strictly(ApiEndpointSchema).parse(await (await me.call(`/endpoints/${endpoint.id}`)).json());
    strictly(ApiEndpointListSchema).parse(await (await me.call("/endpoints")).json());
    strictly(ApiRotatedSecretSchema).parse(
      await (await me.call(`/endpoints/${endpoint.id}/rotate-secret`, { method: "POST" })).json(),
    );
    const test = strictly(ApiTestSendSchema).parse(
      await (await me.call(`/endpoints/${endpoint.id}/test`, { method: "POST" })).json(),
    );
    strictly(ApiDeliveryListSchema).parse(await (await me.call("/deliveries")).json());
    const delivery = strictly(ApiDeliveryDetailSchema).parse(
      await (await me.call(`/deliveries/${test.deliveryId}`)).json(),
    );
    expect(delivery.attempts).toHaveLength(1);
    strictly(EndpointStatsSchema).parse(await (await me.call(`/endpoints/${endpoint.id}/stats?window=7d`)).json());
  });
});
