import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { createApiKey } from "~/services/api/api-keys.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";

let echo: RunningEcho;

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

async function developer() {
  const user = await prisma.user.create({
    data: { email: `api-${Math.random().toString(36).slice(2)}@example.com`, name: "API User", passwordHash: "x" },
    select: { id: true },
  });
  const created = await createApiKey(prisma, user.id, { name: "test" });
  if (!created.ok) throw new Error(created.error);
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${echo.url}/api/v1${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${created.key}`,
        ...(init.json !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(init.headers as Record<string, string>),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  return { userId: user.id, key: created.key, call };
}

const validApp = {
  name: "Scripted app",
  clientType: "CONFIDENTIAL",
  redirectUris: ["https://app.example.com/cb"],
  allowedScopes: ["openid", "integration"],
};

describe("JSON API: /api/v1/oauth-apps", () => {
  it("refuses requests without a valid API key, as problem+json", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Bearer echo_sk_not-a-key" },
      { Authorization: "Basic abc" },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${echo.url}/api/v1/oauth-apps`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(await response.json()).toMatchObject({
        status: 401,
        title: "Unauthorized",
        detail: expect.stringContaining("API key"),
      });
    }
  });

  it("creates, lists, reads, updates, sets the webhook, rotates secrets and deletes an app", async () => {
    const me = await developer();
    const created = await me.call("/oauth-apps", { method: "POST", json: validApp });
    expect(created.status).toBe(201);
    const app = (await created.json()) as { id: string; clientId: string; clientSecret: string };
    expect(app.clientSecret).toMatch(/^echo_cs_/);

    const list = (await (await me.call("/oauth-apps")).json()) as { data: { id: string; clientSecret?: string }[] };
    expect(list.data.map((a) => a.id)).toEqual([app.id]);
    expect(list.data[0]).not.toHaveProperty("clientSecret");

    const patched = await me.call(`/oauth-apps/${app.id}`, { method: "PATCH", json: { name: "Renamed" } });
    expect(await patched.json()).toMatchObject({ name: "Renamed", redirectUris: validApp.redirectUris });

    const webhook = await me.call(`/oauth-apps/${app.id}/webhook`, {
      method: "PUT",
      json: { url: "https://hooks.example.com/echo", timeoutSeconds: 10 },
    });
    expect(await webhook.json()).toMatchObject({
      webhook: { url: "https://hooks.example.com/echo", timeoutSeconds: 10, hasSecret: false },
    });
    const secret = (await (
      await me.call(`/oauth-apps/${app.id}/webhook`, { method: "POST", json: { action: "rotate-secret" } })
    ).json()) as { secret: string };
    expect(secret.secret).toMatch(/^whsec_/);
    expect(await (await me.call(`/oauth-apps/${app.id}`)).json()).toMatchObject({ webhook: { hasSecret: true } });

    const revealed = await me.call(`/oauth-apps/${app.id}/webhook`, {
      method: "POST",
      json: { action: "reveal-secret" },
    });
    expect(revealed.headers.get("cache-control")).toBe("no-store");
    expect(await revealed.json()).toEqual({ secret: secret.secret });
    // Stored encrypted; a rotation keeps the old one signing for 24 hours.
    const stored = await prisma.oAuthClient.findUniqueOrThrow({ where: { id: app.id } });
    expect(stored.webhookSecret).not.toContain(secret.secret.slice(6));
    const second = (await (
      await me.call(`/oauth-apps/${app.id}/webhook`, { method: "POST", json: { action: "rotate-secret" } })
    ).json()) as { secret: string };
    expect(second.secret).not.toBe(secret.secret);
    const afterRotation = await prisma.oAuthClient.findUniqueOrThrow({ where: { id: app.id } });
    expect(afterRotation.previousWebhookSecret).toBe(stored.webhookSecret);
    expect(afterRotation.previousSecretExpiresAt!.getTime() - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(await (await me.call(`/oauth-apps/${app.id}/webhook`)).json()).toMatchObject({
      url: "https://hooks.example.com/echo",
      hasSecret: true,
    });
    expect(
      (await me.call(`/oauth-apps/${app.id}/webhook`, { method: "POST", json: { action: "clear-secret" } })).status,
    ).toBe(204);
    expect(await (await me.call(`/oauth-apps/${app.id}/webhook`)).json()).toMatchObject({ hasSecret: false });

    const rotated = (await (await me.call(`/oauth-apps/${app.id}/rotate-secret`, { method: "POST" })).json()) as {
      clientSecret: string;
    };
    expect(rotated.clientSecret).not.toBe(app.clientSecret);

    expect((await me.call(`/oauth-apps/${app.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await me.call(`/oauth-apps/${app.id}`)).status).toBe(404);
  });

  it("answers 404 problems for an id that cannot be an app's, on every app route", async () => {
    const me = await developer();
    const id = "x".repeat(150);
    for (const [path, init] of [
      [`/oauth-apps/${id}`, {}],
      [`/oauth-apps/${id}`, { method: "PATCH", json: { name: "x" } }],
      [`/oauth-apps/${id}/rotate-secret`, { method: "POST" }],
      [`/oauth-apps/${id}/webhook`, {}],
      [`/oauth-apps/${id}/webhook`, { method: "PUT", json: { url: null } }],
    ] as const) {
      const response = await me.call(path, init);
      expect(response.status, `${init.method ?? "GET"} ${path}`).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("refuses bad input with the field and the reason", async () => {
    const me = await developer();
    const cases: [unknown, string][] = [
      [{ ...validApp, extra: true }, ""],
      [{ ...validApp, name: "" }, "name"],
      [{ ...validApp, redirectUris: ["http://evil.example.com/cb"] }, "redirectUris"],
      [{ ...validApp, redirectUris: ["https://ok.example.com/cb#frag"] }, "redirectUris"],
      [{ ...validApp, allowedScopes: ["admin"] }, "allowedScopes.0"],
      [{ ...validApp, clientType: "SECRET" }, "clientType"],
      [{ ...validApp, redirectUris: "https://app.example.com/cb" }, "redirectUris"],
    ];
    for (const [body, field] of cases) {
      const response = await me.call("/oauth-apps", { method: "POST", json: body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const problem = (await response.json()) as { errors: { field: string | null }[] };
      expect(problem.errors.map((e) => e.field ?? "")).toContain(field);
    }
    const notJson = await me.call("/oauth-apps", {
      method: "POST",
      body: "{nope",
      headers: { "Content-Type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    const wrongType = await me.call("/oauth-apps", {
      method: "POST",
      body: "a=b",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(wrongType.status).toBe(415);

    const app = (await (await me.call("/oauth-apps", { method: "POST", json: validApp })).json()) as { id: string };
    const badUrl = await me.call(`/oauth-apps/${app.id}/webhook`, {
      method: "PUT",
      json: { url: "http://169.254.169.254/latest" },
    });
    expect(badUrl.status).toBe(400);
    const injection = await me.call(`/oauth-apps/${app.id}/webhook`, {
      method: "PUT",
      json: { url: "https://ok.example.com/\r\nX: y" },
    });
    expect(injection.status).toBe(400);
  });

  it("never lets one user see or change another user's app", async () => {
    const alice = await developer();
    const bob = await developer();
    const app = (await (await alice.call("/oauth-apps", { method: "POST", json: validApp })).json()) as { id: string };
    expect(((await (await bob.call("/oauth-apps")).json()) as { data: unknown[] }).data).toEqual([]);
    expect((await bob.call(`/oauth-apps/${app.id}`)).status).toBe(404);
    expect((await bob.call(`/oauth-apps/${app.id}`, { method: "PATCH", json: { name: "Hijacked" } })).status).toBe(404);
    expect((await bob.call(`/oauth-apps/${app.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await bob.call(`/oauth-apps/${app.id}/rotate-secret`, { method: "POST" })).status).toBe(404);
    expect(
      (await bob.call(`/oauth-apps/${app.id}/webhook`, { method: "PUT", json: { url: "https://bob.example.com" } }))
        .status,
    ).toBe(404);
    expect(
      (await bob.call(`/oauth-apps/${app.id}/webhook`, { method: "POST", json: { action: "rotate-secret" } })).status,
    ).toBe(404);
    expect(
      (await bob.call(`/oauth-apps/${app.id}/webhook`, { method: "POST", json: { action: "reveal-secret" } })).status,
    ).toBe(404);
    expect((await bob.call(`/oauth-apps/${app.id}/webhook`)).status).toBe(404);
    expect(await (await alice.call(`/oauth-apps/${app.id}`)).json()).toMatchObject({
      name: "Scripted app",
      webhook: { url: null },
    });
  });
});
