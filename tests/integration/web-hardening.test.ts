import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { createApiKey } from "~/services/api/api-keys.server";
import { hashPassword } from "~/services/auth/password.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { CookieJar, csrfTokenIn, fetchWithJar, logInOverHttp, submitLoginForm } from "../support/http-session";

// The browser- and session-facing defences, each over real HTTP: session rotation, cookie
// flags, the login and token rate limits, safe redirects, and secrets shown exactly once.
let echo: RunningEcho;
const password = "a-long-password-hardening";
let email: string;

beforeAll(async () => {
  echo = await startEchoServer({
    databaseUrl: process.env.DATABASE_URL as string,
    env: { SEED_DEMO_DATA: "false", WORKER_ENABLED: "false" },
  });
  email = `hardening-${Date.now()}@example.com`;
  await prisma.user.create({ data: { email, name: "Hardy", passwordHash: await hashPassword(password) } });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

function sessionCookieOf(jar: CookieJar): string {
  return jar
    .header()
    .split("; ")
    .filter((pair) => !pair.startsWith("__echo_csrf="))
    .join("; ");
}

async function status(path: string, cookie: string): Promise<number> {
  return (await fetch(`${echo.url}${path}`, { headers: { Cookie: cookie }, redirect: "manual" })).status;
}

describe("sessions", () => {
  it("get a new id at every login, and the id the browser presented stops working", async () => {
    const first = sessionCookieOf(await logInOverHttp(echo.url, email, password));
    expect(await status("/dashboard", first)).toBe(200);
    // The same browser logs in again (or an attacker planted `first` in a victim's browser).
    const second = sessionCookieOf(await logInWithCookie(first));
    expect(second).not.toBe(first);
    expect(await status("/dashboard", second)).toBe(200);
    expect(await status("/dashboard", first)).toBe(302);
  });

  it("end on the server at logout: the old cookie no longer works", async () => {
    const jar = await logInOverHttp(echo.url, email, password);
    const cookie = sessionCookieOf(jar);
    const csrf = csrfTokenIn(await (await fetchWithJar(jar, `${echo.url}/dashboard`)).text());
    const out = await fetchWithJar(jar, `${echo.url}/logout`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }),
    });
    expect(out.status).toBe(302);
    expect(await status("/dashboard", cookie)).toBe(302);
  });

  it("live in an httpOnly, SameSite=Lax cookie (Secure only when served over https)", async () => {
    const response = await submitLoginForm(new CookieJar(), echo.url, { email, password });
    const session = response.headers.getSetCookie().find((header) => !header.startsWith("__echo_csrf="))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).not.toMatch(/Secure/i);
  });

  it.each(["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"])(
    "never redirect off-site after login: %s",
    async (redirectTo) => {
      const response = await submitLoginForm(new CookieJar(), echo.url, { email, password, redirectTo });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("/dashboard");
    },
  );
});

/** Logs in through the form while the browser still holds `cookie` (a planted or old session). */
async function logInWithCookie(cookie: string): Promise<CookieJar> {
  const jar = new CookieJar();
  jar.store(new Response(null, { headers: { "Set-Cookie": cookie } }));
  // The login page redirects a signed-in browser, so the form's token comes from a fresh one.
  const login = await fetchWithJar(new CookieJar(), `${echo.url}/login`);
  const csrfCookie = login.headers.getSetCookie().find((header) => header.startsWith("__echo_csrf="))!;
  jar.store(new Response(null, { headers: { "Set-Cookie": csrfCookie } }));
  const response = await fetchWithJar(jar, `${echo.url}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, password, csrf: csrfTokenIn(await login.text()) }),
  });
  expect(response.status).toBe(302);
  return jar;
}

describe("rate limits", () => {
  async function bucketKey(prefix: string): Promise<string> {
    const bucket = await prisma.rateLimitBucket.findFirstOrThrow({ where: { key: { startsWith: prefix } } });
    return bucket.key;
  }

  it("refuse logins from one address after 50 attempts in 15 minutes, even with the right password", async () => {
    await logInOverHttp(echo.url, email, password);
    const key = await bucketKey("login:address:");
    await prisma.rateLimitBucket.update({ where: { key }, data: { count: 50, windowStart: new Date() } });
    const response = await submitLoginForm(new CookieJar(), echo.url, { email, password });
    expect(response.status).toBe(429);
    expect(await response.text()).toContain("Too many login attempts");
    await prisma.rateLimitBucket.delete({ where: { key } });
  });

  it("answer the token endpoint's 121st request in a minute from one address with 429 slow_down", async () => {
    const token = () =>
      fetch(`${echo.url}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code: "x", client_id: "nobody" }),
      });
    expect((await token()).status).toBe(401);
    const key = await bucketKey("oauth-token:");
    await prisma.rateLimitBucket.update({ where: { key }, data: { count: 120, windowStart: new Date() } });
    const limited = await token();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: "slow_down" });
  });
});

describe("secrets on pages and in answers", () => {
  it("a client secret and a webhook secret appear once, when made, never on later pages, answers or errors", async () => {
    const jar = await logInOverHttp(echo.url, email, password);
    const csrf = csrfTokenIn(await (await fetchWithJar(jar, `${echo.url}/dashboard`)).text());
    const post = (path: string, fields: Record<string, string>) =>
      fetchWithJar(jar, `${echo.url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf, ...fields }),
      });
    const created = await (
      await post("/developers/apps/new", {
        name: "Shown once",
        clientType: "CONFIDENTIAL",
        redirectUris: "https://once.example/cb",
        allowedScopes: "openid",
      })
    ).text();
    const clientSecret = created.match(/echo_cs_[A-Za-z0-9_-]+/)?.[0];
    expect(clientSecret).toBeTruthy();
    const app = await prisma.oAuthClient.findFirstOrThrow({ where: { name: "Shown once" } });
    await post(`/developers/apps/${app.id}/webhook`, {
      intent: "save",
      webhookUrl: "https://once.example/hook",
      maxRetries: "3",
      timeoutSeconds: "10",
    });
    const rotated = await (await post(`/developers/apps/${app.id}/webhook`, { intent: "rotate-secret" })).text();
    const webhookSecret = rotated.match(/whsec_[A-Za-z0-9+/=]+/)?.[0];
    expect(webhookSecret).toBeTruthy();

    const user = await prisma.user.findUniqueOrThrow({ where: { email } });
    const key = await createApiKey(prisma, user.id, { name: "reader" });
    if (!key.ok) throw new Error(key.error);
    const api = (path: string) => fetch(`${echo.url}${path}`, { headers: { Authorization: `Bearer ${key.key}` } });
    const later = [
      await (await fetchWithJar(jar, `${echo.url}/developers/apps`)).text(),
      await (await fetchWithJar(jar, `${echo.url}/developers/apps/${app.id}`)).text(),
      await (await fetchWithJar(jar, `${echo.url}/developers/apps/${app.id}/webhook`)).text(),
      await (await fetchWithJar(jar, `${echo.url}/dashboard`)).text(),
      await (await api("/api/v1/oauth-apps")).text(),
      await (await api(`/api/v1/oauth-apps/${app.id}`)).text(),
      await (await api(`/api/v1/oauth-apps/${app.id}/webhook`)).text(),
      // Failures echo nothing back either.
      await (
        await fetch(`${echo.url}/oauth/token`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "authorization_code",
            code: "nope",
            client_id: app.clientId,
            client_secret: `${clientSecret!}-wrong`,
          }),
        })
      ).text(),
      await (await fetch(`${echo.url}/api/v1/oauth-apps`, { headers: { Authorization: `Bearer ${key.key}x` } })).text(),
    ];
    for (const [index, text] of later.entries()) {
      expect(text.includes(clientSecret!), `answer ${index} shows the client secret`).toBe(false);
      expect(text.includes(webhookSecret!), `answer ${index} shows the webhook secret`).toBe(false);
      expect(text.includes(key.key), `answer ${index} shows the API key`).toBe(false);
    }
  });
});

describe("headers on every kind of answer", () => {
  it.each([
    ["a 404 page", () => fetch(`${echo.url}/no-such-page`)],
    [
      "a refused oversized body",
      () =>
        fetch(`${echo.url}/login`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: "x".repeat(1_100_000),
        }),
    ],
    ["an API error", () => fetch(`${echo.url}/api/v1/oauth-apps`)],
  ])("%s carries the CSP, frame-ancestors and nosniff", async (_name, send) => {
    const response = await send();
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  });
});
