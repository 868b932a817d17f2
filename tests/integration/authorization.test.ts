import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { createAliceAndBob } from "../support/fixtures/alice-and-bob";
import { csrfTokenIn, fetchWithJar, logInOverHttp, type CookieJar } from "../support/http-session";

// Bob, signed in, tries every page and form that names one of Alice's things. Each must
// answer as if the thing did not exist, and change nothing. Anonymous requests go to login.
let echo: RunningEcho;
let bob: CookieJar;
let bobCsrf: string;
const alice = { userId: "", appId: "", deliveryId: "", accountId: "", apiKeyId: "" };

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
  const password = "a-long-password-authz";
  const world = await createAliceAndBob(prisma, { password, appName: "Alice's app" });
  const b = world.bob;
  Object.assign(alice, {
    userId: world.alice.id,
    appId: world.app.id,
    accountId: world.accountId,
    deliveryId: world.deliveryId,
    apiKeyId: world.apiKey.record.id,
  });

  bob = await logInOverHttp(echo.url, b.email, password);
  bobCsrf = csrfTokenIn(await (await fetchWithJar(bob, `${echo.url}/dashboard`)).text());
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

function post(path: string, fields: Record<string, string>) {
  return fetchWithJar(bob, `${echo.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: bobCsrf, ...fields }),
  });
}

describe("another user's things", () => {
  it.each([
    ["the app's page", () => `/developers/apps/${alice.appId}`],
    ["the app's webhook settings", () => `/developers/apps/${alice.appId}/webhook`],
    ["a delivery", () => `/webhooks/deliveries/${alice.deliveryId}`],
  ])("cannot be read: %s", async (_name, path) => {
    const response = await fetchWithJar(bob, `${echo.url}${path()}`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("Alice&#x27;s app");
  });

  it("do not appear in lists", async () => {
    for (const path of [
      "/developers/apps",
      "/webhooks",
      "/integrations",
      "/settings/connected-apps",
      "/settings/api-keys",
    ]) {
      const html = await (await fetchWithJar(bob, `${echo.url}${path}`)).text();
      expect(html, path).not.toContain("Alice&#x27;s app");
      expect(html, path).not.toContain(alice.deliveryId);
      expect(html, path).not.toContain(alice.apiKeyId);
    }
  });

  it.each([
    ["rotate the app's client secret", () => post(`/developers/apps/${alice.appId}`, { intent: "rotate-secret" })],
    ["delete the app", () => post(`/developers/apps/${alice.appId}`, { intent: "delete" })],
    [
      "edit the app",
      () =>
        post(`/developers/apps/${alice.appId}`, {
          intent: "update",
          name: "Bob's now",
          redirectUris: "https://b.example/cb",
          allowedScopes: "openid",
        }),
    ],
    ["reveal the webhook secret", () => post(`/developers/apps/${alice.appId}/webhook`, { intent: "reveal-secret" })],
    [
      "change the webhook URL",
      () =>
        post(`/developers/apps/${alice.appId}/webhook`, {
          intent: "save",
          webhookUrl: "https://b.example/steal",
          maxRetries: "1",
          timeoutSeconds: "5",
        }),
    ],
    ["retry a delivery", () => post(`/webhooks/deliveries/${alice.deliveryId}`, {})],
  ])("cannot be changed: %s", async (_name, act) => {
    const response = await act();
    expect(response.status).toBe(404);
  });

  it.each([
    [
      "disconnect an integration",
      () => post("/integrations?index", { intent: "disconnect", accountId: alice.accountId }),
    ],
    ["revoke an API key", () => post("/settings/api-keys", { intent: "revoke", id: alice.apiKeyId })],
    ["revoke an app's access", () => post("/settings/connected-apps", { clientDbId: alice.appId })],
  ])("cannot be changed: %s", async (_name, act) => {
    const response = await act();
    expect(response.status).toBe(404);
  });

  it("are all still as Alice left them", async () => {
    const app = await prisma.oAuthClient.findUniqueOrThrow({ where: { id: alice.appId } });
    expect(app).toMatchObject({ name: "Alice's app", webhookUrl: "https://a.example/hook", deletedAt: null });
    expect(await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: alice.deliveryId } })).toMatchObject({
      status: "FAILED",
    });
    expect(await prisma.integrationAccount.findUniqueOrThrow({ where: { id: alice.accountId } })).toMatchObject({
      deletedAt: null,
    });
    expect(await prisma.apiKey.findUniqueOrThrow({ where: { id: alice.apiKeyId } })).toMatchObject({ revokedAt: null });
    expect(await prisma.oAuthIntegrationGrant.findFirstOrThrow({ where: { clientId: alice.appId } })).toMatchObject({
      isActive: true,
    });
  });
});

describe("anonymous requests", () => {
  it.each([
    "/dashboard",
    "/integrations",
    "/webhooks",
    "/developers/apps",
    "/developers/apps/new",
    "/settings/connected-apps",
    "/settings/api-keys",
  ])("to %s go to the login page", async (path) => {
    const response = await fetch(`${echo.url}${path}`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toMatch(/^\/login\?redirectTo=/);
  });

  it("cannot post a state-changing form without a session and CSRF token", async () => {
    const response = await fetch(`${echo.url}/developers/apps/${alice.appId}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "delete" }),
      redirect: "manual",
    });
    expect([302, 403]).toContain(response.status);
    expect((await prisma.oAuthClient.findUniqueOrThrow({ where: { id: alice.appId } })).deletedAt).toBeNull();
  });
});
