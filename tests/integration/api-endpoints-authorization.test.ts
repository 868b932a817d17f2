import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { apiCaller, apiUser, oauthAppToken, type ApiCall } from "../support/api-client";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// Alice owns an endpoint (made with her API key), an endpoint her OAuth app "A" registered for
// her, and a failed delivery. Bob (another user), anonymous callers, a token without the
// `integration` scope, and Alice's token for another app "B" try every route on them.
let echo: RunningEcho;
let inbox: WebhookReceiver;
const alice = { userId: "", call: null as unknown as ApiCall, endpointId: "", deliveryId: "" };
const appA = { appId: "", call: null as unknown as ApiCall, endpointId: "", deliveryId: "" };
let bob: ApiCall;
let appB: ApiCall;
let anonymous: ApiCall;
let noScope: ApiCall;

async function failedTestSend(call: ApiCall, endpointId: string): Promise<string> {
  const result = (await (await call(`/endpoints/${endpointId}/test`, { method: "POST" })).json()) as {
    outcome: string;
    deliveryId: string;
  };
  expect(result.outcome).toBe("failed");
  return result.deliveryId;
}

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
  inbox = await startWebhookReceiver({ status: 400, body: "refused" });
  const a = await apiUser(prisma, echo.url);
  alice.userId = a.userId;
  alice.call = a.call;
  bob = (await apiUser(prisma, echo.url)).call;
  anonymous = apiCaller(echo.url, null);

  const created = (await (
    await alice.call("/endpoints", { method: "POST", json: { name: "Alice's", url: inbox.url } })
  ).json()) as { id: string };
  alice.endpointId = created.id;
  alice.deliveryId = await failedTestSend(alice.call, alice.endpointId);

  const tokenA = await oauthAppToken(prisma, echo.url, { userId: alice.userId, scopes: ["openid", "integration"] });
  appA.appId = tokenA.appId;
  appA.call = tokenA.call;
  const registered = await appA.call("/endpoints", { method: "POST", json: { name: "App A's", url: inbox.url } });
  expect(registered.status).toBe(201);
  appA.endpointId = ((await registered.json()) as { id: string }).id;
  appA.deliveryId = await failedTestSend(appA.call, appA.endpointId);

  appB = (await oauthAppToken(prisma, echo.url, { userId: alice.userId, scopes: ["integration"] })).call;
  noScope = (await oauthAppToken(prisma, echo.url, { userId: alice.userId, scopes: ["openid", "profile"] })).call;
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await inbox?.close();
});

async function snapshot() {
  const [endpoints, deliveries] = await Promise.all([
    prisma.webhookEndpoint.findMany({ where: { ownerId: alice.userId }, orderBy: { id: "asc" } }),
    prisma.webhookDelivery.findMany({
      where: { id: { in: [alice.deliveryId, appA.deliveryId] } },
      orderBy: { id: "asc" },
      select: { id: true, status: true, attemptCount: true },
    }),
  ]);
  return { endpoints, deliveries, deliveryCount: await prisma.webhookDelivery.count() };
}

type Route = {
  name: string;
  method: string;
  /** The path for Alice's own endpoint or delivery (made with her API key). */
  path: () => string;
  json?: unknown;
  /** Whether it names one of Alice's records (so strangers get 404), or lists (so they see nothing of hers). */
  kind: "record" | "list" | "public-catalog";
};

const endpointPath =
  (suffix = "") =>
  () =>
    `/endpoints/${alice.endpointId}${suffix}`;
const ROUTES: Route[] = [
  { name: "list event types", method: "GET", path: () => "/event-types", kind: "public-catalog" },
  { name: "list endpoints", method: "GET", path: () => "/endpoints", kind: "list" },
  {
    name: "create an endpoint",
    method: "POST",
    path: () => "/endpoints",
    json: { name: "x", url: "https://hooks.example.com/x" },
    kind: "list",
  },
  { name: "read an endpoint", method: "GET", path: endpointPath(), kind: "record" },
  { name: "change an endpoint", method: "PATCH", path: endpointPath(), json: { name: "Hijacked" }, kind: "record" },
  { name: "delete an endpoint", method: "DELETE", path: endpointPath(), kind: "record" },
  { name: "rotate its secret", method: "POST", path: endpointPath("/rotate-secret"), kind: "record" },
  { name: "reveal its secret", method: "GET", path: endpointPath("/secret"), kind: "record" },
  { name: "send it a test event", method: "POST", path: endpointPath("/test"), kind: "record" },
  { name: "pause it", method: "POST", path: endpointPath("/pause"), kind: "record" },
  { name: "resume it", method: "POST", path: endpointPath("/resume"), kind: "record" },
  {
    name: "retry its failed deliveries",
    method: "POST",
    path: endpointPath("/retry-failed"),
    json: { since: "2020-01-01T00:00:00Z" },
    kind: "record",
  },
  { name: "read its stats", method: "GET", path: endpointPath("/stats?window=24h"), kind: "record" },
  { name: "list deliveries", method: "GET", path: () => "/deliveries", kind: "list" },
  { name: "read a delivery", method: "GET", path: () => `/deliveries/${alice.deliveryId}`, kind: "record" },
  { name: "retry a delivery", method: "POST", path: () => `/deliveries/${alice.deliveryId}/retry`, kind: "record" },
];

describe.each(ROUTES)("$method $name", (route) => {
  it("refuses anonymous callers (401), tokens without `integration` (403), and hides Alice's records from Bob and from her other app (404)", async () => {
    const before = await snapshot();
    const init = { method: route.method, ...(route.json !== undefined ? { json: route.json } : {}) };

    const anon = await anonymous(route.path(), init);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("content-type")).toBe("application/problem+json");
    expect(anon.headers.get("www-authenticate")).toContain("Bearer");
    const invalid = await apiCaller(echo.url, "echo_sk_not-a-real-key")(route.path(), init);
    expect(invalid.status).toBe(401);
    const wrongScope = await noScope(route.path(), init);
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.headers.get("www-authenticate")).toContain('error="insufficient_scope"');

    for (const [who, call] of [
      ["Bob", bob],
      ["Alice's app B", appB],
    ] as const) {
      const response = await call(route.path(), init);
      if (route.kind === "record") {
        expect(response.status, who).toBe(404);
        expect(response.headers.get("content-type")).toBe("application/problem+json");
      } else {
        expect(response.status, who).toBeLessThan(300);
        const text = await response.text();
        expect(text, who).not.toContain(alice.endpointId);
        expect(text, who).not.toContain(alice.deliveryId);
        expect(text, who).not.toContain(appA.endpointId);
      }
    }

    const after = await snapshot();
    if (route.method === "POST" && route.path() === "/endpoints") {
      // Bob's and app B's creations are theirs; Alice's own records are untouched.
      const mine = (s: typeof before) =>
        s.endpoints.filter((e) => e.id === alice.endpointId || e.id === appA.endpointId);
      expect(mine(after)).toEqual(mine(before));
    } else {
      expect(after).toEqual(before);
    }
  });
});

describe("an OAuth token acts on its own app's endpoints for that user only", () => {
  it("lists only the endpoints its app registered, and marks them with its app id", async () => {
    const list = (await (await appA.call("/endpoints")).json()) as { data: { id: string; oauthAppId: string }[] };
    expect(list.data.map((e) => e.id)).toEqual([appA.endpointId]);
    expect(list.data[0]!.oauthAppId).toBe(appA.appId);
    // Alice's own key sees both (and any that app B registered for her).
    const hers = (await (await alice.call("/endpoints")).json()) as { data: { id: string }[] };
    expect(hers.data.map((e) => e.id)).toEqual(expect.arrayContaining([alice.endpointId, appA.endpointId]));
  });

  it("reads, changes and manages its own endpoint, and not Alice's personal one", async () => {
    expect((await appA.call(`/endpoints/${appA.endpointId}`)).status).toBe(200);
    expect((await appA.call(`/endpoints/${appA.endpointId}/secret`)).status).toBe(200);
    expect((await appA.call(`/endpoints/${appA.endpointId}/stats`)).status).toBe(200);
    const patched = await appA.call(`/endpoints/${appA.endpointId}`, { method: "PATCH", json: { name: "Renamed" } });
    expect(await patched.json()).toMatchObject({ name: "Renamed", oauthAppId: appA.appId });
    expect((await appA.call(`/endpoints/${alice.endpointId}`)).status).toBe(404);
    expect((await appA.call(`/endpoints/${alice.endpointId}/secret`)).status).toBe(404);
    expect((await appA.call(`/endpoints/${alice.endpointId}/pause`, { method: "POST" })).status).toBe(404);
  });

  it("sees only its own endpoints' deliveries, and retries only those", async () => {
    const list = (await (await appA.call("/deliveries")).json()) as { data: { id: string }[] };
    expect(list.data.map((d) => d.id)).toEqual([appA.deliveryId]);
    const filtered = (await (await appA.call(`/deliveries?endpointId=${alice.endpointId}`)).json()) as {
      data: unknown[];
    };
    expect(filtered.data).toEqual([]);
    expect((await appA.call(`/deliveries/${alice.deliveryId}`)).status).toBe(404);
    expect((await appA.call(`/deliveries/${alice.deliveryId}/retry`, { method: "POST" })).status).toBe(404);
    expect((await appA.call(`/deliveries/${appA.deliveryId}`)).status).toBe(200);
  });

  it("loses access when the token is revoked", async () => {
    const { appId, call } = await oauthAppToken(prisma, echo.url, { userId: alice.userId, scopes: ["integration"] });
    expect((await call("/endpoints")).status).toBe(200);
    await prisma.oAuthToken.updateMany({ where: { clientId: appId }, data: { revokedAt: new Date() } });
    expect((await call("/endpoints")).status).toBe(401);
  });
});
