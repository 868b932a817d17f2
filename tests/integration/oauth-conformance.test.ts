import { randomUUID } from "node:crypto";
import { generateCodeVerifier, OAuth2Client, OAuth2HttpError, type OAuth2Token } from "@badgateway/oauth2-client";
import * as openid from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { SUPPORTED_SCOPES } from "~/lib/oauth-scopes";
import { hashPassword } from "~/services/auth/password.server";
import { createOAuthApp } from "~/services/oauth/oauth-apps.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { fetchWithJar, logInOverHttp, type CookieJar } from "../support/http-session";
import { answerConsent } from "../support/oauth-consent";

/*
 * Echo's OAuth provider as third-party apps meet it: two independent, standards-strict client
 * libraries (openid-client and @badgateway/oauth2-client) run the whole flow over real HTTP with
 * every client authentication method the metadata advertises; then the metadata against RFC 8414
 * and the token endpoint's errors against RFC 6749 §5.2. oauth-flow.test.ts covers Echo's own
 * rules (consent, reuse detection, scopes) with oauth4webapi.
 */

const REDIRECT_URI = "http://127.0.0.1:8977/callback";
const SCOPES = ["openid", "profile", "email", "integration"];
/** What the metadata must advertise for the token endpoint: each one has its flows below. */
const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"] as const;
type AuthMethod = (typeof AUTH_METHODS)[number];
/** @badgateway/oauth2-client's Basic without form-urlencoding, as many clients send it. */
type LibraryAuthMethod = AuthMethod | "client_secret_basic_interop";
/** RFC 6749 §5.2's error codes for the token endpoint. */
const TOKEN_ERRORS = [
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
];

let echo: RunningEcho;

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

type User = { id: string; email: string; jar: CookieJar };

async function newUser(): Promise<User> {
  const email = `conformance-${randomUUID()}@example.com`;
  const password = "a-long-password-123";
  const user = await prisma.user.create({
    data: { email, name: "Cora Formance", passwordHash: await hashPassword(password) },
    select: { id: true },
  });
  return { id: user.id, email, jar: await logInOverHttp(echo.url, email, password) };
}

type App = { clientId: string; clientSecret: string | null };

async function newApp(ownerId: string, clientType: "CONFIDENTIAL" | "PUBLIC"): Promise<App> {
  return createOAuthApp(prisma, ownerId, {
    name: "Conformance",
    clientType,
    redirectUris: [REDIRECT_URI],
    allowedScopes: SCOPES,
  });
}

/** One request a library sent, and how Echo answered it. */
type Sent = { path: string; authorization: string | null; body: URLSearchParams; status: number; headers: Headers };

/** A fetch for the libraries that remembers what they sent, to prove which authentication they used. */
function recordingFetch(sent: Sent[]) {
  // openid-client's body type is wider than RequestInit's (any Uint8Array), hence the cast.
  return async (input: string | URL | Request, init?: Omit<RequestInit, "body"> & { body?: unknown }) => {
    const request = new Request(input, init as RequestInit);
    const body = new URLSearchParams(request.method === "POST" ? await request.clone().text() : "");
    const response = await fetch(request);
    sent.push({
      path: new URL(request.url).pathname,
      authorization: request.headers.get("authorization"),
      body,
      status: response.status,
      headers: response.headers,
    });
    return response;
  };
}

type Tokens = { accessToken: string; refreshToken: string; scope: string[] };

/** The same four steps, as each library takes them. */
type ClientUnderTest = {
  sent: Sent[];
  /** Built by the library, with its own state and S256 PKCE challenge. */
  authorizationUrl(): Promise<URL>;
  /** The library checks the callback's state and exchanges its code with the PKCE verifier. */
  exchange(callback: URL): Promise<Tokens>;
  refresh(refreshToken: string): Promise<Tokens>;
  revoke(token: string, hint: "access_token" | "refresh_token"): Promise<void>;
};

/** openid-client 6: discovery, then its Configuration with the chosen ClientAuth. */
async function withOpenidClient(app: App, method: AuthMethod): Promise<ClientUnderTest> {
  const sent: Sent[] = [];
  const auth =
    method === "client_secret_basic"
      ? openid.ClientSecretBasic(app.clientSecret!)
      : method === "client_secret_post"
        ? openid.ClientSecretPost(app.clientSecret!)
        : openid.None();
  const config = await openid.discovery(new URL(echo.url), app.clientId, undefined, auth, {
    // RFC 8414 metadata: Echo issues no ID tokens, so it serves no OpenID configuration.
    algorithm: "oauth2",
    // Echo listens on http://127.0.0.1 in tests.
    execute: [openid.allowInsecureRequests],
    [openid.customFetch]: recordingFetch(sent),
  });
  let checks = { state: "", verifier: "" };
  const tokensOf = (response: openid.TokenEndpointResponse): Tokens => ({
    accessToken: response.access_token,
    refreshToken: response.refresh_token!,
    scope: response.scope?.split(" ") ?? [],
  });
  return {
    sent,
    async authorizationUrl() {
      checks = { state: openid.randomState(), verifier: openid.randomPKCECodeVerifier() };
      return openid.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: SCOPES.join(" "),
        state: checks.state,
        code_challenge: await openid.calculatePKCECodeChallenge(checks.verifier),
        code_challenge_method: "S256",
      });
    },
    async exchange(callback) {
      return tokensOf(
        await openid.authorizationCodeGrant(config, callback, {
          expectedState: checks.state,
          pkceCodeVerifier: checks.verifier,
        }),
      );
    },
    async refresh(refreshToken) {
      return tokensOf(await openid.refreshTokenGrant(config, refreshToken));
    },
    async revoke(token, hint) {
      await openid.tokenRevocation(config, token, { token_type_hint: hint });
    },
  };
}

/** @badgateway/oauth2-client 3: finds the endpoints by discovery from the server URL. */
async function withBadgatewayClient(app: App, method: LibraryAuthMethod): Promise<ClientUnderTest> {
  const sent: Sent[] = [];
  const client = new OAuth2Client({
    server: echo.url,
    clientId: app.clientId,
    // Without a secret the library sends client_id in the body: `none`.
    ...(method === "none" ? {} : { clientSecret: app.clientSecret!, authenticationMethod: method }),
    fetch: recordingFetch(sent),
  });
  let checks = { state: "", verifier: "" };
  const tokensOf = (token: OAuth2Token): Tokens => ({
    accessToken: token.accessToken,
    refreshToken: token.refreshToken!,
    scope: token.scope ?? [],
  });
  return {
    sent,
    async authorizationUrl() {
      checks = { state: randomUUID(), verifier: await generateCodeVerifier() };
      return new URL(
        await client.authorizationCode.getAuthorizeUri({
          redirectUri: REDIRECT_URI,
          state: checks.state,
          codeVerifier: checks.verifier,
          scope: SCOPES,
        }),
      );
    },
    async exchange(callback) {
      return tokensOf(
        await client.authorizationCode.getTokenFromCodeRedirect(callback, {
          redirectUri: REDIRECT_URI,
          state: checks.state,
          codeVerifier: checks.verifier,
        }),
      );
    },
    async refresh(refreshToken) {
      return tokensOf(await client.refreshToken({ accessToken: "", expiresAt: null, refreshToken }));
    },
    async revoke(token, hint) {
      const held: OAuth2Token =
        hint === "access_token"
          ? { accessToken: token, expiresAt: null, refreshToken: null }
          : { accessToken: "", expiresAt: null, refreshToken: token };
      await client.revoke(held, hint);
    },
  };
}

/** A library's refusal as HTTP status and RFC 6749 error code, whichever library threw it. */
async function refusalOf(attempt: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof OAuth2HttpError) return { status: error.httpCode, error: error.oauth2Code };
    if (error instanceof openid.ResponseBodyError) return { status: error.status, error: error.error };
    // openid-client stops at a 401's challenge before it reads the body.
    if (error instanceof openid.WWWAuthenticateChallengeError) {
      expect(error.cause.map(({ scheme }) => scheme)).toEqual(["basic"]);
      return { status: error.status, error: ((await error.response.json()) as { error: string }).error };
    }
    throw error;
  }
  throw new Error("The request was not refused");
}

async function userinfo(accessToken: string) {
  const response = await fetch(`${echo.url}/oauth/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: response.status === 200 ? await response.json() : null };
}

/** RFC 6749 Appendix B, as strict clients apply it: everything but [A-Za-z0-9] and space is %-encoded. */
function strictFormUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, "+")
    .replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Every token and revocation request the library sent authenticated the client this way, and only this way. */
function expectClientAuthentication(sent: Sent[], method: LibraryAuthMethod, app: App) {
  const calls = sent.filter(({ path }) => path === "/oauth/token" || path === "/oauth/revoke");
  expect(calls.map(({ path }) => path)).toContain("/oauth/revoke");
  for (const call of calls) {
    if (method === "client_secret_basic" || method === "client_secret_basic_interop") {
      expect(call.authorization).toMatch(/^Basic /);
      const credentials = Buffer.from(call.authorization!.slice(6), "base64").toString("utf8");
      // Strict: RFC 6749 §2.3.1 form-urlencoding, so every `_` of Echo's ids travels as %5F.
      expect(credentials).toBe(
        method === "client_secret_basic"
          ? `${strictFormUrlEncode(app.clientId)}:${strictFormUrlEncode(app.clientSecret!)}`
          : `${app.clientId}:${app.clientSecret}`,
      );
      expect(call.body.has("client_secret")).toBe(false);
    } else {
      expect(call.authorization).toBeNull();
      expect(call.body.get("client_id")).toBe(app.clientId);
      expect(call.body.get("client_secret")).toBe(method === "client_secret_post" ? app.clientSecret : null);
    }
  }
  // RFC 6749 §5.1: token responses are never cached.
  for (const call of calls.filter(({ path, status }) => path === "/oauth/token" && status === 200)) {
    expect(call.headers.get("cache-control")).toBe("no-store");
    expect(call.headers.get("pragma")).toBe("no-cache");
  }
}

/**
 * Authorize with PKCE, consent, exchange, userinfo; refresh (rotation); revoke the refresh token;
 * authorize again (consent remembered) and revoke the access token.
 */
async function runFullFlow(client: ClientUnderTest, user: User) {
  const url = await client.authorizationUrl();
  expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  const tokens = await client.exchange(await answerConsent(user.jar, url));
  expect([...tokens.scope].sort()).toEqual([...SCOPES].sort());
  expect(await userinfo(tokens.accessToken)).toEqual({
    status: 200,
    body: { sub: user.id, name: "Cora Formance", email: user.email },
  });

  const refreshed = await client.refresh(tokens.refreshToken);
  expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
  expect((await userinfo(refreshed.accessToken)).status).toBe(200);
  expect((await userinfo(tokens.accessToken)).status).toBe(401);

  // Revoking the refresh token ends the access token issued with it, and it refreshes nothing more.
  await client.revoke(refreshed.refreshToken, "refresh_token");
  expect((await userinfo(refreshed.accessToken)).status).toBe(401);
  expect(await refusalOf(client.refresh(refreshed.refreshToken))).toEqual({ status: 400, error: "invalid_grant" });

  const again = await client.authorizationUrl();
  const skipped = await fetchWithJar(user.jar, again.href);
  expect(skipped.status).toBe(302);
  const second = await client.exchange(new URL(skipped.headers.get("location")!));
  expect((await userinfo(second.accessToken)).status).toBe(200);
  await client.revoke(second.accessToken, "access_token");
  expect((await userinfo(second.accessToken)).status).toBe(401);
}

const LIBRARIES = [
  { library: "openid-client", connect: withOpenidClient },
  { library: "@badgateway/oauth2-client", connect: withBadgatewayClient },
];

describe.each(LIBRARIES)("$library against Echo", ({ connect }) => {
  it.each(["client_secret_basic", "client_secret_post"] as const)(
    "runs code + PKCE, refresh and revocation as a confidential client authenticating with %s",
    async (method) => {
      const user = await newUser();
      const app = await newApp(user.id, "CONFIDENTIAL");
      const client = await connect(app, method);
      await runFullFlow(client, user);
      expectClientAuthentication(client.sent, method, app);
    },
  );

  it("runs code + PKCE, refresh and revocation as a public client with PKCE only (none)", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "PUBLIC");
    const client = await connect(app, "none");
    await runFullFlow(client, user);
    expectClientAuthentication(client.sent, "none", app);
  });

  it("refuses a confidential client that leaves out its secret, PKCE or not, with 401 invalid_client", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const client = await connect(app, "none");
    const url = await client.authorizationUrl();
    const callback = await answerConsent(user.jar, url);
    expect(await refusalOf(client.exchange(callback))).toEqual({ status: 401, error: "invalid_client" });
  });
});

describe("@badgateway/oauth2-client's interop Basic (id and secret not form-urlencoded)", () => {
  it("runs code + PKCE, refresh and revocation as a confidential client authenticating with it", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const client = await withBadgatewayClient(app, "client_secret_basic_interop");
    await runFullFlow(client, user);
    expectClientAuthentication(client.sent, "client_secret_basic_interop", app);
  });
});

async function metadata() {
  const response = await fetch(`${echo.url}/.well-known/oauth-authorization-server`);
  return { response, document: (await response.json()) as Record<string, unknown> };
}

describe("authorization server metadata (RFC 8414)", () => {
  it("is served as JSON at /.well-known/oauth-authorization-server, for the issuer it was fetched from", async () => {
    const { response, document } = await metadata();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    // §3.3: the issuer is exactly the URL the well-known path was appended to: no query, no fragment.
    expect(document.issuer).toBe(echo.url);
  });

  it("has the required fields, with absolute endpoint URLs at the issuer", async () => {
    const { document } = await metadata();
    expect(document).toMatchObject({
      issuer: echo.url,
      authorization_endpoint: `${echo.url}/oauth/authorize`,
      token_endpoint: `${echo.url}/oauth/token`,
      revocation_endpoint: `${echo.url}/oauth/revoke`,
      userinfo_endpoint: `${echo.url}/oauth/userinfo`,
      response_types_supported: ["code"],
    });
  });

  it("advertises S256 PKCE only, Echo's grant types and scopes, and exactly the client authentication methods tested here", async () => {
    const { document } = await metadata();
    expect(document.code_challenge_methods_supported).toEqual(["S256"]);
    expect(document.grant_types_supported).toEqual(["authorization_code", "refresh_token"]);
    expect(document.scopes_supported).toEqual(SUPPORTED_SCOPES);
    // A method added here needs its flows in this file.
    expect([...(document.token_endpoint_auth_methods_supported as string[])].sort()).toEqual([...AUTH_METHODS].sort());
    expect([...(document.revocation_endpoint_auth_methods_supported as string[])].sort()).toEqual(
      [...AUTH_METHODS].sort(),
    );
  });

  it("is what both libraries discover, with the issuer check openid-client makes", async () => {
    const { document } = await metadata();
    const config = await openid.discovery(new URL(echo.url), "any-client", undefined, openid.None(), {
      algorithm: "oauth2",
      execute: [openid.allowInsecureRequests],
    });
    expect(config.serverMetadata()).toMatchObject(document);
    const badgateway = new OAuth2Client({ server: echo.url, clientId: "any-client" });
    expect(await badgateway.getEndpoint("tokenEndpoint")).toBe(document.token_endpoint);
    expect(await badgateway.getEndpoint("revocationEndpoint")).toBe(document.revocation_endpoint);
  });

  it("names endpoints that answer as advertised: plain PKCE refused, revocation and userinfo live", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "PUBLIC");
    const authorize = new URL(`${echo.url}/oauth/authorize`);
    authorize.search = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid",
      code_challenge: "a".repeat(43),
      code_challenge_method: "plain",
    }).toString();
    const plain = await fetchWithJar(user.jar, authorize.href);
    expect(plain.status).toBe(302);
    expect(new URL(plain.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");

    // RFC 7009 §2.2: an unknown token is no error for a client that authenticated.
    const revoke = await fetch(`${echo.url}/oauth/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "not-a-token", client_id: app.clientId }),
    });
    expect(revoke.status).toBe(200);

    const info = await fetch(`${echo.url}/oauth/userinfo`);
    expect(info.status).toBe(401);
    expect(info.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });
});

function basic(id: string, secret: string, scheme = "Basic"): string {
  return `${scheme} ${Buffer.from(`${id}:${secret}`, "utf8").toString("base64")}`;
}

async function post(path: "/oauth/token" | "/oauth/revoke", fields: string[][], headers: Record<string, string> = {}) {
  const response = await fetch(`${echo.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** RFC 6749 §5.2: status, a known error code, a description in its allowed characters, never cached. */
function expectOAuthError(answer: Awaited<ReturnType<typeof post>>, status: number, error: string) {
  expect({ status: answer.status, error: answer.body.error }, JSON.stringify(answer.body)).toEqual({ status, error });
  expect(TOKEN_ERRORS).toContain(answer.body.error);
  expect(answer.body.error_description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  expect(answer.headers.get("cache-control")).toBe("no-store");
  expect(answer.headers.get("pragma")).toBe("no-cache");
  if (status === 401) expect(answer.headers.get("www-authenticate")).toMatch(/^Basic realm="[^"]+"$/);
  else expect(answer.headers.get("www-authenticate")).toBeNull();
}

/** A code exchange Echo can only refuse for the code: reaching invalid_grant means the client authenticated. */
const UNKNOWN_CODE = [
  ["grant_type", "authorization_code"],
  ["code", "echo_code_unknown"],
  ["redirect_uri", REDIRECT_URI],
  ["code_verifier", "v".repeat(43)],
];

describe("token endpoint client authentication and errors (RFC 6749 §2.3.1, §5.2)", () => {
  it("accepts Basic credentials form-urlencoded, unencoded, partly encoded and with any case of scheme", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const id = app.clientId;
    const secret = app.clientSecret!;
    for (const authorization of [
      basic(strictFormUrlEncode(id), strictFormUrlEncode(secret)),
      basic(id, secret),
      basic(id.replace("_", "%5f"), secret.replace("_", "%5F")),
      basic(id, secret, "basic"),
      basic(id, secret, "BASIC"),
    ]) {
      expectOAuthError(
        await post("/oauth/token", UNKNOWN_CODE, { Authorization: authorization }),
        400,
        "invalid_grant",
      );
    }
  });

  it("answers a wrong secret with 401 invalid_client, with a Basic challenge whether it came in Basic or the body", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const wrong = `${app.clientSecret!}x`;
    expectOAuthError(
      await post("/oauth/token", UNKNOWN_CODE, { Authorization: basic(strictFormUrlEncode(app.clientId), wrong) }),
      401,
      "invalid_client",
    );
    expectOAuthError(
      await post("/oauth/token", [...UNKNOWN_CODE, ["client_id", app.clientId], ["client_secret", wrong]]),
      401,
      "invalid_client",
    );
    expectOAuthError(
      await post("/oauth/token", [...UNKNOWN_CODE, ["client_id", "echo_app_nobody"]]),
      401,
      "invalid_client",
    );
  });

  it("answers Basic credentials it cannot read with 401 invalid_client, never a server error", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const raw = (bytes: Buffer) => `Basic ${bytes.toString("base64")}`;
    for (const authorization of [
      "Basic",
      "Basic !!!not-base64!!!",
      "Basic a b",
      raw(Buffer.from("no-colon-here")),
      raw(Buffer.from(`${app.clientId}%ZZ:${app.clientSecret!}`)),
      raw(Buffer.from(`${app.clientId}:${app.clientSecret!}%E0%A4`)),
      raw(Buffer.from(`${app.clientId}:${app.clientSecret!}%00`)),
      raw(Buffer.concat([Buffer.from(`${app.clientId}:`), Buffer.from([0xff, 0xfe])])),
      raw(Buffer.from(`:${app.clientSecret!}`)),
    ]) {
      expectOAuthError(
        await post("/oauth/token", UNKNOWN_CODE, { Authorization: authorization }),
        401,
        "invalid_client",
      );
      expectOAuthError(
        await post("/oauth/revoke", [["token", "t"]], { Authorization: authorization }),
        401,
        "invalid_client",
      );
    }
  });

  it("refuses a client that authenticates twice, or names two clients, with 400 invalid_request", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const authorization = basic(strictFormUrlEncode(app.clientId), strictFormUrlEncode(app.clientSecret!));
    expectOAuthError(
      await post("/oauth/token", [...UNKNOWN_CODE, ["client_secret", app.clientSecret!]], {
        Authorization: authorization,
      }),
      400,
      "invalid_request",
    );
    expectOAuthError(
      await post("/oauth/token", [...UNKNOWN_CODE, ["client_id", "echo_app_other"]], { Authorization: authorization }),
      400,
      "invalid_request",
    );
    // The same client_id in the body as well is allowed.
    expectOAuthError(
      await post("/oauth/token", [...UNKNOWN_CODE, ["client_id", app.clientId]], { Authorization: authorization }),
      400,
      "invalid_grant",
    );
  });

  it("answers a missing or repeated parameter with 400 invalid_request, and an empty one counts as missing", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const authorization = { Authorization: basic(app.clientId, app.clientSecret!) };
    const without = (name: string) => UNKNOWN_CODE.filter(([field]) => field !== name);
    expectOAuthError(await post("/oauth/token", without("grant_type"), authorization), 400, "invalid_request");
    expectOAuthError(await post("/oauth/token", without("code"), authorization), 400, "invalid_request");
    expectOAuthError(
      await post("/oauth/token", [...without("code"), ["code", ""]], authorization),
      400,
      "invalid_request",
    );
    expectOAuthError(
      await post("/oauth/token", [...UNKNOWN_CODE, ["code", "echo_code_other"]], authorization),
      400,
      "invalid_request",
    );
    expectOAuthError(
      await post("/oauth/revoke", [
        ["token", "a"],
        ["token", "b"],
        ["client_id", app.clientId],
      ]),
      400,
      "invalid_request",
    );
  });

  it("answers a grant type Echo does not offer with 400 unsupported_grant_type, even for an authenticated client", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const authorization = { Authorization: basic(app.clientId, app.clientSecret!) };
    for (const grantType of [
      "password",
      "client_credentials",
      "implicit",
      "urn:ietf:params:oauth:grant-type:device_code",
    ]) {
      expectOAuthError(
        await post(
          "/oauth/token",
          [
            ["grant_type", grantType],
            ["username", "u"],
            ["password", "p"],
          ],
          authorization,
        ),
        400,
        "unsupported_grant_type",
      );
    }
  });

  it("answers an unknown code and a redirect_uri other than the authorization request's with 400 invalid_grant", async () => {
    const user = await newUser();
    const app = await newApp(user.id, "CONFIDENTIAL");
    const authorization = { Authorization: basic(app.clientId, app.clientSecret!) };
    expectOAuthError(await post("/oauth/token", UNKNOWN_CODE, authorization), 400, "invalid_grant");

    const verifier = openid.randomPKCECodeVerifier();
    const url = new URL(`${echo.url}/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid",
      code_challenge: await openid.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    }).toString();
    const code = (await answerConsent(user.jar, url)).searchParams.get("code")!;
    const exchange = (redirectUri: string) =>
      post(
        "/oauth/token",
        [
          ["grant_type", "authorization_code"],
          ["code", code],
          ["redirect_uri", redirectUri],
          ["code_verifier", verifier],
        ],
        authorization,
      );
    expectOAuthError(await exchange("http://127.0.0.1:8977/other"), 400, "invalid_grant");
    // The failed attempt used the code up.
    expectOAuthError(await exchange(REDIRECT_URI), 400, "invalid_grant");
  });

  it("answers a request that is not a form with 400 invalid_request", async () => {
    const response = await fetch(`${echo.url}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grant_type: "authorization_code", code: "c", client_id: "x" }),
    });
    expectOAuthError(
      { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> },
      400,
      "invalid_request",
    );
  });
});
