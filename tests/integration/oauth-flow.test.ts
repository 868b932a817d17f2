import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { hashPassword } from "~/services/auth/password.server";
import { createOAuthApp } from "~/services/oauth/oauth-apps.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { csrfTokenIn, fetchWithJar, logInOverHttp } from "../support/http-session";
import { answerConsent } from "../support/oauth-consent";

// The third-party app's side is played by oauth4webapi, a standards-strict OAuth client.
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT_URI = "http://127.0.0.1:8976/callback";

let echo: RunningEcho;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
  const issuer = new URL(echo.url);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

async function newUser() {
  const email = `oauth-${Math.random().toString(36).slice(2)}@example.com`;
  const password = "a-long-password-123";
  const user = await prisma.user.create({
    data: { email, name: "Olivia Auth", passwordHash: await hashPassword(password) },
    select: { id: true },
  });
  return { ...user, email, jar: await logInOverHttp(echo.url, email, password) };
}

async function newApp(
  ownerId: string,
  {
    clientType = "CONFIDENTIAL" as "CONFIDENTIAL" | "PUBLIC",
    allowedScopes = ["openid", "profile", "email", "integration"],
  } = {},
) {
  const app = await createOAuthApp(prisma, ownerId, {
    name: "Notes",
    clientType,
    redirectUris: [REDIRECT_URI],
    allowedScopes,
  });
  const client: oauth.Client = { client_id: app.clientId };
  const auth = app.clientSecret ? oauth.ClientSecretPost(app.clientSecret) : oauth.None();
  return { ...app, client, auth };
}

async function authorizeUrl(
  clientId: string,
  {
    scope = "openid profile email integration",
    state = oauth.generateRandomState(),
    verifier = oauth.generateRandomCodeVerifier(),
    extra = {} as Record<string, string>,
  } = {},
) {
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  }).toString();
  return { url, state, verifier };
}

async function exchange(app: Awaited<ReturnType<typeof newApp>>, callback: URL, state: string, verifier: string) {
  const params = oauth.validateAuthResponse(as, app.client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    app.client,
    app.auth,
    params,
    REDIRECT_URI,
    verifier,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(as, app.client, response);
}

describe("OAuth 2.0 authorization code flow with PKCE", () => {
  it("authorizes, consents, exchanges, reads userinfo, refreshes with rotation and revokes", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);

    const tokens = await exchange(app, callback, state, verifier);
    expect(tokens).toMatchObject({ token_type: "bearer", expires_in: expect.any(Number) });
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope?.split(" ").sort()).toEqual(["email", "integration", "openid", "profile"]);

    const info = await oauth.processUserInfoResponse(
      as,
      app.client,
      oauth.skipSubjectCheck,
      await oauth.userInfoRequest(as, app.client, tokens.access_token, insecure),
    );
    expect(info).toEqual({ sub: user.id, name: "Olivia Auth", email: user.email });

    const grant = await prisma.oAuthIntegrationGrant.findFirstOrThrow({ where: { userId: user.id, clientId: app.id } });
    expect(grant).toMatchObject({ isActive: true, scopes: ["openid", "profile", "email", "integration"] });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      app.client,
      await oauth.refreshTokenGrantRequest(as, app.client, app.auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // The rotated-out refresh token is dead, and presenting it again kills the new one too.
    const replay = await oauth.refreshTokenGrantRequest(as, app.client, app.auth, tokens.refresh_token!, insecure);
    await expect(oauth.processRefreshTokenResponse(as, app.client, replay)).rejects.toMatchObject({
      error: "invalid_grant",
    });
    const afterReplay = await oauth.userInfoRequest(as, app.client, refreshed.access_token, insecure);
    expect(afterReplay.status).toBe(401);

    // Consent is remembered: the next authorization goes straight back to the app.
    const again = await authorizeUrl(app.clientId);
    const skipped = await fetchWithJar(user.jar, again.url.href);
    expect(skipped.status).toBe(302);
    const second = await exchange(app, new URL(skipped.headers.get("location")!), again.state, again.verifier);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, app.client, app.auth, second.access_token, insecure),
    );
    expect((await oauth.userInfoRequest(as, app.client, second.access_token, insecure)).status).toBe(401);
  });

  it("skips the consent screen when the same scopes were approved before", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const first = await authorizeUrl(app.clientId, { scope: "openid email" });
    await answerConsent(user.jar, first.url);
    const again = await authorizeUrl(app.clientId, { scope: "openid email" });
    const response = await fetchWithJar(user.jar, again.url.href);
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    // A wider request asks again.
    const wider = await authorizeUrl(app.clientId, { scope: "openid email integration" });
    expect((await fetchWithJar(user.jar, wider.url.href)).status).toBe(200);
  });

  it("sends a user who is not logged in to the login page and back", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url } = await authorizeUrl(app.clientId);
    const response = await fetch(url, { redirect: "manual" });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location")!, echo.url);
    expect(location.pathname).toBe("/login");
    expect(location.searchParams.get("redirectTo")).toBe(`${url.pathname}${url.search}`);
  });

  it("supports public clients with PKCE and no secret, and requires PKCE from them", async () => {
    const user = await newUser();
    const app = await newApp(user.id, { clientType: "PUBLIC" });
    const { url, state, verifier } = await authorizeUrl(app.clientId, { scope: "openid" });
    const tokens = await exchange(app, await answerConsent(user.jar, url), state, verifier);
    expect(tokens.access_token).toBeTruthy();

    const withoutPkce = new URL(url);
    withoutPkce.searchParams.delete("code_challenge");
    withoutPkce.searchParams.delete("code_challenge_method");
    const refused = await fetchWithJar(user.jar, withoutPkce.href);
    expect(new URL(refused.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
  });
});

describe("OAuth 2.0 refusals", () => {
  it("shows an error page, without redirecting, for an unknown client or an unregistered redirect URI", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const unknown = await authorizeUrl("no-such-client");
    const unknownPage = await fetchWithJar(user.jar, unknown.url.href);
    expect(unknownPage.status).toBe(400);
    expect(await unknownPage.text()).toContain("not registered with Echo");

    const wrongRedirect = await authorizeUrl(app.clientId, {
      extra: { redirect_uri: "https://evil.example/callback" },
    });
    const wrongPage = await fetchWithJar(user.jar, wrongRedirect.url.href);
    expect(wrongPage.status).toBe(400);
    expect(await wrongPage.text()).toContain("has not registered");
  });

  it("shows an error page when redirect_uri is missing or repeated, even with one registered", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const missing = await authorizeUrl(app.clientId);
    missing.url.searchParams.delete("redirect_uri");
    const repeated = await authorizeUrl(app.clientId);
    repeated.url.searchParams.append("redirect_uri", REDIRECT_URI);
    for (const { url } of [missing, repeated]) {
      const page = await fetchWithJar(user.jar, url.href);
      expect(page.status).toBe(400);
      expect(await page.text()).toContain("one redirect_uri is required");
    }
  });

  it("refuses a repeated parameter, so a second scope cannot widen what the user approved", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const first = await authorizeUrl(app.clientId, { scope: "openid" });
    await exchange(app, await answerConsent(user.jar, first.url), first.state, first.verifier);
    // Consent for `openid` is remembered; a repeated scope must not slip more past it.
    const widened = await authorizeUrl(app.clientId, { scope: "openid" });
    widened.url.searchParams.append("scope", "openid profile email integration");
    const response = await fetchWithJar(user.jar, widened.url.href);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("code")).toBeNull();
    expect(await prisma.oAuthIntegrationGrant.count({ where: { userId: user.id } })).toBe(0);
  });

  it("redirects with invalid_scope for a scope outside allowedScopes", async () => {
    const user = await newUser();
    const app = await newApp(user.id, { allowedScopes: ["openid"] });
    const { url, state } = await authorizeUrl(app.clientId, { scope: "openid integration" });
    const response = await fetchWithJar(user.jar, url.href);
    const location = new URL(response.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("invalid_scope");
    expect(location.searchParams.get("state")).toBe(state);
  });

  it("redirects with access_denied when the user denies, and grants nothing", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url, "deny");
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe(state);
    expect(await prisma.oAuthIntegrationGrant.count({ where: { userId: user.id } })).toBe(0);
  });

  it("refuses a consent POST without the CSRF token", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url } = await authorizeUrl(app.clientId);
    const response = await fetchWithJar(user.jar, url.href, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "approve" }),
    });
    expect(response.status).toBe(403);
    expect(await prisma.oAuthConsent.count({ where: { userId: user.id } })).toBe(0);
  });

  it("refuses a PKCE verifier that does not match", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    await expect(exchange(app, callback, state, oauth.generateRandomCodeVerifier())).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("refuses a reused code and revokes the tokens the first exchange issued", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    const tokens = await exchange(app, callback, state, verifier);
    await expect(exchange(app, callback, state, verifier)).rejects.toMatchObject({ error: "invalid_grant" });
    expect((await oauth.userInfoRequest(as, app.client, tokens.access_token, insecure)).status).toBe(401);
  });

  it("revokes the tokens refreshed from a code's first exchange when the code comes back", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    const tokens = await exchange(app, callback, state, verifier);
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      app.client,
      await oauth.refreshTokenGrantRequest(as, app.client, app.auth, tokens.refresh_token!, insecure),
    );
    await expect(exchange(app, callback, state, verifier)).rejects.toMatchObject({ error: "invalid_grant" });
    expect((await oauth.userInfoRequest(as, app.client, refreshed.access_token, insecure)).status).toBe(401);
    const refreshAgain = await oauth.refreshTokenGrantRequest(
      as,
      app.client,
      app.auth,
      refreshed.refresh_token!,
      insecure,
    );
    await expect(oauth.processRefreshTokenResponse(as, app.client, refreshAgain)).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("answers userinfo with insufficient_scope for a token granted without openid", async () => {
    const user = await newUser();
    const app = await newApp(user.id, { allowedScopes: ["integration"] });
    const { url, state, verifier } = await authorizeUrl(app.clientId, { scope: "integration" });
    const tokens = await exchange(app, await answerConsent(user.jar, url), state, verifier);
    const response = await oauth.userInfoRequest(as, app.client, tokens.access_token, insecure);
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(await response.json()).toMatchObject({ error: "insufficient_scope" });
  });

  it("refuses a refresh asking for more than was granted, and the refresh token keeps working", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId, { scope: "openid email" });
    const tokens = await exchange(app, await answerConsent(user.jar, url), state, verifier);
    const wider = await oauth.refreshTokenGrantRequest(as, app.client, app.auth, tokens.refresh_token!, {
      ...insecure,
      additionalParameters: { scope: "openid email integration" },
    });
    await expect(oauth.processRefreshTokenResponse(as, app.client, wider)).rejects.toMatchObject({
      error: "invalid_scope",
    });
    const narrower = await oauth.processRefreshTokenResponse(
      as,
      app.client,
      await oauth.refreshTokenGrantRequest(as, app.client, app.auth, tokens.refresh_token!, {
        ...insecure,
        additionalParameters: { scope: "openid" },
      }),
    );
    expect(narrower.scope).toBe("openid");
  });

  it("does not let another client redeem a code or revoke a token it was not issued", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const other = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    const params = oauth.validateAuthResponse(as, app.client, callback, state);
    const stolen = await oauth.authorizationCodeGrantRequest(
      as,
      other.client,
      other.auth,
      params,
      REDIRECT_URI,
      verifier,
      insecure,
    );
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: "invalid_grant" });

    const tokens = await exchange(app, callback, state, verifier);
    const revoke = await oauth.revocationRequest(as, other.client, other.auth, tokens.access_token, insecure);
    expect(revoke.status).toBe(200);
    expect((await oauth.userInfoRequest(as, app.client, tokens.access_token, insecure)).status).toBe(200);
  });

  it("refuses an expired code", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    await prisma.oAuthAuthorizationCode.updateMany({
      where: { userId: user.id },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    await expect(exchange(app, callback, state, verifier)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a confidential client with the wrong secret", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);
    const params = oauth.validateAuthResponse(as, app.client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      app.client,
      oauth.ClientSecretPost("wrong"),
      params,
      REDIRECT_URI,
      verifier,
      insecure,
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "invalid_client" });
  });
});

describe("revoking access", () => {
  it("deactivates the integration grant and revokes the app's tokens", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const tokens = await exchange(app, await answerConsent(user.jar, url), state, verifier);

    const page = await fetchWithJar(user.jar, `${echo.url}/settings/connected-apps`);
    const html = await page.text();
    expect(html).toContain("Notes");
    const revoke = await fetchWithJar(user.jar, `${echo.url}/settings/connected-apps`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrfTokenIn(html), clientDbId: app.id }),
    });
    expect(revoke.status).toBeLessThan(400);
    expect(
      await prisma.oAuthIntegrationGrant.findFirstOrThrow({ where: { userId: user.id, clientId: app.id } }),
    ).toMatchObject({ isActive: false });
    expect((await oauth.userInfoRequest(as, app.client, tokens.access_token, insecure)).status).toBe(401);
  });
});

describe("an app's integration grant over its lifetime", () => {
  async function grantOf(userId: string, clientDbId: string) {
    return prisma.oAuthIntegrationGrant.findMany({
      where: { userId, clientId: clientDbId },
      select: { id: true, isActive: true, revokedAt: true },
    });
  }

  it("is re-activated, not duplicated, when the user approves again after revoking", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const first = await authorizeUrl(app.clientId);
    await exchange(app, await answerConsent(user.jar, first.url), first.state, first.verifier);
    const [granted] = await grantOf(user.id, app.id);

    const page = await (await fetchWithJar(user.jar, `${echo.url}/settings/connected-apps`)).text();
    await fetchWithJar(user.jar, `${echo.url}/settings/connected-apps`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrfTokenIn(page), clientDbId: app.id }),
    });
    expect(await grantOf(user.id, app.id)).toEqual([{ id: granted!.id, isActive: false, revokedAt: expect.any(Date) }]);

    // The consent was forgotten with the revoke, so the screen asks again.
    const second = await authorizeUrl(app.clientId);
    const tokens = await exchange(app, await answerConsent(user.jar, second.url), second.state, second.verifier);
    expect(tokens.access_token).toBeTruthy();
    expect(await grantOf(user.id, app.id)).toEqual([{ id: granted!.id, isActive: true, revokedAt: null }]);
  });

  it("leaves no code to exchange after the user revokes: one issued just before is refused", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const callback = await answerConsent(user.jar, url);

    const page = await (await fetchWithJar(user.jar, `${echo.url}/settings/connected-apps`)).text();
    await fetchWithJar(user.jar, `${echo.url}/settings/connected-apps`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrfTokenIn(page), clientDbId: app.id }),
    });
    await expect(exchange(app, callback, state, verifier)).rejects.toMatchObject({ error: "invalid_grant" });
    expect(await prisma.oAuthToken.count({ where: { userId: user.id } })).toBe(0);
  });

  it("ends, with every token, when the developer deletes the app, which then cannot authorize", async () => {
    const developer = await newUser();
    const user = await newUser();
    const app = await newApp(developer.id);
    const { url, state, verifier } = await authorizeUrl(app.clientId);
    const tokens = await exchange(app, await answerConsent(user.jar, url), state, verifier);

    const settings = await (await fetchWithJar(developer.jar, `${echo.url}/developers/apps/${app.id}`)).text();
    const deleted = await fetchWithJar(developer.jar, `${echo.url}/developers/apps/${app.id}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrfTokenIn(settings), intent: "delete" }),
    });
    expect(deleted.status).toBe(302);

    expect(await grantOf(user.id, app.id)).toEqual([
      { id: expect.any(String), isActive: false, revokedAt: expect.any(Date) },
    ]);
    expect((await oauth.userInfoRequest(as, app.client, tokens.access_token, insecure)).status).toBe(401);
    // The deleted app is no client any more: its refresh token is refused with its credentials.
    const refresh = await oauth.refreshTokenGrantRequest(as, app.client, app.auth, tokens.refresh_token!, insecure);
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toMatchObject({ error: "invalid_client" });
    const again = await authorizeUrl(app.clientId);
    const page = await fetchWithJar(user.jar, again.url.href);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("not registered with Echo");
  });

  it("ends when the app may no longer ask for integration, and adding it back asks the user again", async () => {
    const user = await newUser();
    const app = await newApp(user.id);
    const first = await authorizeUrl(app.clientId);
    await exchange(app, await answerConsent(user.jar, first.url), first.state, first.verifier);

    const settingsUrl = `${echo.url}/developers/apps/${app.id}`;
    const save = async (allowedScopes: string[]) => {
      const page = await (await fetchWithJar(user.jar, settingsUrl)).text();
      const body = new URLSearchParams({ csrf: csrfTokenIn(page), intent: "update", name: "Notes" });
      body.append("redirectUris", REDIRECT_URI);
      for (const scope of allowedScopes) body.append("allowedScopes", scope);
      const response = await fetchWithJar(user.jar, settingsUrl, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
      expect(response.status).toBe(200);
    };
    await save(["openid", "profile", "email"]);
    expect(await grantOf(user.id, app.id)).toEqual([
      { id: expect.any(String), isActive: false, revokedAt: expect.any(Date) },
    ]);
    const consentRow = await prisma.oAuthConsent.findFirstOrThrow({ where: { userId: user.id, clientId: app.id } });
    expect(consentRow.scopes.sort()).toEqual(["email", "openid", "profile"]);

    await save(["openid", "profile", "email", "integration"]);
    const again = await authorizeUrl(app.clientId);
    const screen = await fetchWithJar(user.jar, again.url.href);
    expect(screen.status).toBe(200);
    expect(await grantOf(user.id, app.id)).toMatchObject([{ isActive: false }]);
  });

  it("answers 404 for an app id that cannot exist, on every app page", async () => {
    const user = await newUser();
    for (const path of [`/developers/apps/${"x".repeat(150)}`, `/developers/apps/${"x".repeat(150)}/webhook`]) {
      expect((await fetchWithJar(user.jar, `${echo.url}${path}`)).status, path).toBe(404);
    }
  });
});
