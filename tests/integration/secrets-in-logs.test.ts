import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { createApiKey } from "~/services/api/api-keys.server";
import { hashPassword } from "~/services/auth/password.server";
import { EndpointCreateSchema, createEndpoint, revealEndpointSecret } from "~/services/webhooks/endpoints.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { csrfTokenIn, fetchWithJar, logInOverHttp } from "../support/http-session";
import { startPostmarkStandIn } from "../support/stand-ins/postmark";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// Every secret Echo handles in a full run, then a look through everything the server printed.
let echo: RunningEcho;
let receiver: WebhookReceiver;
let postmark: Awaited<ReturnType<typeof startPostmarkStandIn>>;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  postmark = await startPostmarkStandIn();
  echo = await startEchoServer({
    databaseUrl: process.env.DATABASE_URL as string,
    env: {
      SEED_DEMO_DATA: "false",
      LOG_LEVEL: "trace",
      POSTMARK_API_URL: postmark.url,
      OUTBOX_SWEEP_INTERVAL_MS: "200",
    },
  });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await Promise.all([receiver.close(), postmark.close()]);
});

describe("secrets and logs", () => {
  it("never prints a password, API key, client secret, token, webhook or endpoint secret, custom header credential or integration credential", async () => {
    const password = "a-long-password-for-logs";
    const email = `logs-${Date.now()}@example.com`;
    const user = await prisma.user.create({
      data: { email, name: "Log Watcher", passwordHash: await hashPassword(password) },
      select: { id: true },
    });
    const apiKey = await createApiKey(prisma, user.id, { name: "logs" });
    if (!apiKey.ok) throw new Error(apiKey.error);
    const api = (path: string, method: string, json?: unknown) =>
      fetch(`${echo.url}/api/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${apiKey.key}`, ...(json ? { "Content-Type": "application/json" } : {}) },
        body: json ? JSON.stringify(json) : undefined,
      });

    const redirectUri = "http://127.0.0.1:8976/callback";
    const app = (await (
      await api("/oauth-apps", "POST", {
        name: "Quiet app",
        clientType: "CONFIDENTIAL",
        redirectUris: [redirectUri],
        allowedScopes: ["openid", "integration"],
      })
    ).json()) as { id: string; clientId: string; clientSecret: string };
    await api(`/oauth-apps/${app.id}/webhook`, "PUT", { url: receiver.url });
    const { secret: webhookSecret } = (await (
      await api(`/oauth-apps/${app.id}/webhook`, "POST", { action: "rotate-secret" })
    ).json()) as { secret: string };

    // The user's own endpoint, with a custom header carrying the receiver's credential.
    const endpointHeaderCredential = "receiver-credential-7f3a9c2e51";
    const endpoint = await createEndpoint(
      { userId: user.id },
      EndpointCreateSchema.parse({
        name: "Quiet endpoint",
        url: `${receiver.url}/endpoint`,
        customHeaders: { "X-Receiver-Key": endpointHeaderCredential },
      }),
    );
    const endpointSecret = await revealEndpointSecret({ userId: user.id }, endpoint.id);

    // The user logs in and consents; the app exchanges the code.
    const jar = await logInOverHttp(echo.url, email, password);
    const verifier = oauth.generateRandomCodeVerifier();
    const authorize = new URL(`${echo.url}/oauth/authorize`);
    authorize.search = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid integration",
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    }).toString();
    const consentPage = await fetchWithJar(jar, authorize.href);
    const answer = await fetchWithJar(jar, authorize.href, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrfTokenIn(await consentPage.text()), decision: "approve" }),
    });
    const code = new URL(answer.headers.get("location")!).searchParams.get("code")!;
    const tokenResponse = await fetch(`${echo.url}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: redirectUri,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        code_verifier: verifier,
      }),
    });
    const tokens = (await tokenResponse.json()) as { access_token: string; refresh_token: string };
    expect(tokens.access_token).toBeTruthy();
    // A wrong secret too: failures are where secrets tend to end up in logs.
    await fetch(`${echo.url}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: app.clientId,
        client_secret: "wrong-secret-value",
      }),
    });

    // The user connects Postmark with its server token; the app's receiver gets the signed event.
    const integrations = await fetchWithJar(jar, `${echo.url}/integrations`);
    const connect = await fetchWithJar(jar, `${echo.url}/integrations?index`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        csrf: csrfTokenIn(await integrations.text()),
        intent: "connect-api-key",
        slug: "postmark",
        apiKey: "pm-valid-token",
      }),
    });
    expect(connect.status).toBeLessThan(400);
    // The app's webhook and the endpoint's (grant events may add more).
    await receiver.waitForCount(2, 15_000);
    expect(receiver.received.some((hook) => hook.headers["x-receiver-key"] === endpointHeaderCredential)).toBe(true);

    // Attempts are logged after the receiver answered; give them a moment.
    await expect
      .poll(() => echo.output().split("Webhook delivery attempt").length - 1, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(2);
    const output = echo.output();
    for (const [name, value] of Object.entries({
      password,
      apiKey: apiKey.key,
      clientSecret: app.clientSecret,
      wrongClientSecret: "wrong-secret-value",
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      authorizationCode: code,
      webhookSecret,
      webhookSecretBody: webhookSecret.slice("whsec_".length),
      integrationCredential: "pm-valid-token",
      endpointSecret,
      endpointSecretBody: endpointSecret.slice("whsec_".length),
      endpointHeaderCredential,
      signature: String(receiver.received[0]!.headers["webhook-signature"]).slice(3),
    })) {
      expect(output.includes(value), `${name} appears in the server's output`).toBe(false);
    }
  }, 60_000);
});
