import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { hashPassword } from "~/services/auth/password.server";
import { seedDemoData } from "~/services/seed/seed.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { csrfTokenIn, fetchWithJar, logInOverHttp, type CookieJar } from "../support/http-session";
import { startMcpStandIn } from "../support/stand-ins/mcp-server";
import { startOAuthProviderStandIn } from "../support/stand-ins/oauth-provider";
import { startPostmarkStandIn } from "../support/stand-ins/postmark";

// The connect flows as a browser drives them, against the real built Echo (run `npm run build` first):
// forms with CSRF, the redirect to the provider and back, status codes, errors beside the fields.

let echo: RunningEcho;
let provider: Awaited<ReturnType<typeof startOAuthProviderStandIn>>;
let postmark: Awaited<ReturnType<typeof startPostmarkStandIn>>;
let mcp: Awaited<ReturnType<typeof startMcpStandIn>>;

beforeAll(async () => {
  [provider, postmark, mcp] = await Promise.all([
    startOAuthProviderStandIn(),
    startPostmarkStandIn(),
    startMcpStandIn({ name: "team-docs", version: "1.4.0" }),
  ]);
  await seedDemoData(prisma);
  const client = { CLIENT_ID: provider.clientId, CLIENT_SECRET: provider.clientSecret };
  const providerEnv = (prefix: string, tokenPath: string) => ({
    [`${prefix}_CLIENT_ID`]: client.CLIENT_ID,
    [`${prefix}_CLIENT_SECRET`]: client.CLIENT_SECRET,
    [`${prefix}_AUTHORIZE_URL`]: `${provider.url}/authorize`,
    [`${prefix}_TOKEN_URL`]: `${provider.url}${tokenPath}`,
    [`${prefix}_API_URL`]: provider.url,
  });
  echo = await startEchoServer({
    databaseUrl: process.env.DATABASE_URL as string,
    env: {
      SEED_DEMO_DATA: "false",
      POSTMARK_API_URL: postmark.url,
      ...providerEnv("LINEAR", "/token"),
      ...providerEnv("SLACK", "/slack/oauth.v2.access"),
      ...providerEnv("GITHUB", "/github/login/oauth/access_token"),
    },
  });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await Promise.all([provider?.close(), postmark?.close(), mcp?.close()]);
});

async function newUser() {
  const email = `int-${Math.random().toString(36).slice(2)}@example.com`;
  const password = "a-long-password-123";
  const user = await prisma.user.create({
    data: { email, name: "Iris Tegration", passwordHash: await hashPassword(password) },
    select: { id: true },
  });
  return { ...user, jar: await logInOverHttp(echo.url, email, password) };
}

async function writtenFor(userId: string) {
  const [accounts, events] = await Promise.all([
    prisma.integrationAccount.findMany({ where: { userId }, include: { definition: { select: { slug: true } } } }),
    prisma.webhookEvent.findMany({ where: { userId }, orderBy: { createdAt: "asc" }, select: { type: true } }),
  ]);
  return { accounts, events: events.map((event) => event.type) };
}

async function csrfFor(jar: CookieJar): Promise<string> {
  const page = await fetchWithJar(jar, `${echo.url}/integrations`);
  expect(page.status).toBe(200);
  return csrfTokenIn(await html(page));
}

/** The page's HTML without React's text separators (`Connected <!-- -->Acme<!-- -->.`). */
async function html(response: Response): Promise<string> {
  return (await response.text()).replaceAll("<!-- -->", "");
}

function postForm(jar: CookieJar, path: string, fields: Record<string, string>) {
  return fetchWithJar(jar, `${echo.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

/** Connect button → provider (approves at once) → back to Echo's callback, as a browser follows them. */
async function connectOverOAuth(jar: CookieJar, slug: string) {
  const started = await postForm(jar, `/integrations/${slug}/authorize`, { csrf: await csrfFor(jar) });
  expect(started.status).toBe(302);
  const authorizeUrl = new URL(started.headers.get("location")!);
  const atProvider = await fetch(authorizeUrl, { redirect: "manual" });
  const callbackUrl = atProvider.headers.get("location")!;
  const callback = await fetchWithJar(jar, callbackUrl);
  return { authorizeUrl, callbackUrl, callback };
}

describe("OAuth 2.0 connect flows over HTTP", () => {
  it.each([
    { slug: "linear", displayName: "Ada Lovelace (ada@example.com)", accountId: "user-123", scopeParam: "scope" },
    { slug: "slack", displayName: "Ada Lovelace in Acme", accountId: "T0001:user-123", scopeParam: "user_scope" },
    { slug: "github", displayName: "Ada Lovelace (@ada)", accountId: "9001", scopeParam: "scope" },
  ])(
    "$slug: sends the user to the provider with state, comes back, creates one account and its event",
    async ({ slug, displayName, accountId, scopeParam }) => {
      const user = await newUser();
      const { authorizeUrl, callbackUrl, callback } = await connectOverOAuth(user.jar, slug);

      expect(authorizeUrl.origin).toBe(provider.url);
      expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
        response_type: "code",
        client_id: provider.clientId,
        redirect_uri: `${echo.url}/integrations/${slug}/callback`,
        state: expect.stringMatching(/^[\w-]{32}$/),
        [scopeParam]: expect.any(String),
      });
      // PKCE where the provider supports it (Linear).
      expect(authorizeUrl.searchParams.get("code_challenge_method")).toBe(slug === "linear" ? "S256" : null);

      expect(callback.status).toBe(302);
      expect(callback.headers.get("location")).toBe(`/integrations?${new URLSearchParams({ connected: displayName })}`);
      const { accounts, events } = await writtenFor(user.id);
      expect(accounts).toHaveLength(1);
      expect(accounts[0]).toMatchObject({ accountId, status: "ACTIVE", definition: { slug } });
      expect(events).toEqual(["integration.connected"]);

      // The state is single use: the same answer from the provider cannot connect twice.
      const replay = await fetchWithJar(user.jar, callbackUrl);
      expect(replay.status).toBe(400);
      expect(await html(replay)).toContain("expired or was already used");
      expect((await writtenFor(user.id)).events).toEqual(["integration.connected"]);
    },
  );

  it("shows the provider's refusal of the code and writes nothing (Slack's ok: false)", async () => {
    const user = await newUser();
    provider.behaviour.tokenError = "invalid_code";
    try {
      const { callback } = await connectOverOAuth(user.jar, "slack");
      expect(callback.status).toBe(502);
      expect(await html(callback)).toContain("The provider refused to connect: invalid_code.");
    } finally {
      provider.behaviour.tokenError = null;
    }
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });

  it("refuses to start without the form's CSRF token", async () => {
    const user = await newUser();
    await csrfFor(user.jar);
    const started = await postForm(user.jar, "/integrations/linear/authorize", { csrf: "forged" });
    expect(started.status).toBe(403);
    expect(started.headers.get("location")).toBeNull();
  });

  it("answers 404 for an integration that is not OAuth", async () => {
    const user = await newUser();
    const started = await postForm(user.jar, "/integrations/postmark/authorize", { csrf: await csrfFor(user.jar) });
    expect(started.status).toBe(404);
  });
});

describe("API-key connect over HTTP (Postmark)", () => {
  it("shows a wrong key's error beside the field with 400, then connects the right key once", async () => {
    const user = await newUser();
    const csrf = await csrfFor(user.jar);
    const connect = (apiKey: string) =>
      postForm(user.jar, "/integrations", { csrf, intent: "connect-api-key", slug: "postmark", apiKey });

    const empty = await connect("   ");
    expect(empty.status).toBe(400);
    expect(await html(empty)).toMatch(/id="postmark-key-error"[^>]*>Paste the key</);

    const wrong = await connect("pm-wrong-token");
    expect(wrong.status).toBe(400);
    const wrongHtml = await html(wrong);
    expect(wrongHtml).toMatch(/id="postmark-key-error"[^>]*>Postmark did not accept this server API token/);
    expect(wrongHtml).not.toContain("pm-wrong-token");
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });

    const right = await connect("pm-valid-token");
    expect(right.status).toBe(200);
    const page = await html(right);
    expect(page).toContain("Connected Acme Transactional.");
    expect(page).not.toContain("pm-valid-token");
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts).toMatchObject([{ accountId: "4242", status: "ACTIVE" }]);
    expect(events).toEqual(["integration.connected"]);
  });

  it("lets only the owner disconnect, and writes integration.disconnected", async () => {
    const owner = await newUser();
    const stranger = await newUser();
    const connected = await postForm(owner.jar, "/integrations", {
      csrf: await csrfFor(owner.jar),
      intent: "connect-api-key",
      slug: "postmark",
      apiKey: "pm-valid-token",
    });
    expect(connected.status).toBe(200);
    const [account] = (await writtenFor(owner.id)).accounts;

    const foreign = await postForm(stranger.jar, "/integrations", {
      csrf: await csrfFor(stranger.jar),
      intent: "disconnect",
      accountId: account!.id,
    });
    expect(foreign.status).toBe(404);
    expect((await writtenFor(owner.id)).accounts[0]).toMatchObject({ status: "ACTIVE", deletedAt: null });

    const own = await postForm(owner.jar, "/integrations", {
      csrf: await csrfFor(owner.jar),
      intent: "disconnect",
      accountId: account!.id,
    });
    expect(own.status).toBe(200);
    expect(await html(own)).toContain("Nothing connected yet.");
    const { accounts, events } = await writtenFor(owner.id);
    expect(accounts[0]).toMatchObject({ status: "DISCONNECTED", credentials: null });
    expect(events).toEqual(["integration.connected", "integration.disconnected"]);
  });

  it("sends someone who is not logged in to the login page and writes nothing", async () => {
    const response = await fetch(`${echo.url}/integrations`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "connect-api-key", slug: "postmark", apiKey: "pm-valid-token" }),
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toMatch(/^\/login/);
  });
});

describe("MCP connect over HTTP", () => {
  it("shows a server that is down beside the URL field (502), then connects a real one", async () => {
    const user = await newUser();
    const csrf = await csrfFor(user.jar);
    const connect = (url: string) =>
      postForm(user.jar, "/integrations", { csrf, intent: "connect-mcp", slug: "mcp", url, token: "" });
    const down = await startMcpStandIn();
    await down.close();

    const failed = await connect(`${down.url}/mcp`);
    expect(failed.status).toBe(502);
    expect(await html(failed)).toMatch(/id="mcp-url-error"[^>]*>Could not complete the MCP handshake/);
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });

    const connected = await connect(`${mcp.url}/mcp`);
    expect(connected.status).toBe(200);
    expect(await html(connected)).toContain("Connected team-docs 1.4.0.");
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts).toMatchObject([{ status: "ACTIVE", settings: { serverName: "team-docs" } }]);
    expect(events).toEqual(["integration.connected"]);
  });

  it("refuses a private address that is not allowlisted before connecting", async () => {
    const user = await newUser();
    const refused = await postForm(user.jar, "/integrations", {
      csrf: await csrfFor(user.jar),
      intent: "connect-mcp",
      slug: "mcp",
      url: "http://10.1.2.3/mcp",
      token: "",
    });
    expect(refused.status).toBe(400);
    expect(await html(refused)).toMatch(/id="mcp-url-error"[^>]*>This address is private/);
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });
});
