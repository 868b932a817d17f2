import path from "node:path";
import { runInMockTaskContext } from "@trigger.dev/core/v3/test";
import { AbortTaskRunError } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "~/db.server";
import type { disconnectIntegration as DisconnectIntegration } from "~/services/integrations/disconnect-integration.server";
import type {
  beginOAuth2Connect as BeginOAuth2Connect,
  completeOAuth2Connect as CompleteOAuth2Connect,
} from "~/services/integrations/oauth2-connect.server";
import type { connectIntegration as ConnectIntegration } from "~/services/integrations/run-integration.server";
import { listen } from "../support/stand-ins/http";
import { startMcpStandIn } from "../support/stand-ins/mcp-server";
import { startOAuthProviderStandIn } from "../support/stand-ins/oauth-provider";
import { startPostmarkStandIn } from "../support/stand-ins/postmark";

// Type-only imports: the modules themselves load after the provider settings are in place.
type Services = {
  prisma: Database;
  connectIntegration: typeof ConnectIntegration;
  disconnectIntegration: typeof DisconnectIntegration;
  beginOAuth2Connect: typeof BeginOAuth2Connect;
  completeOAuth2Connect: typeof CompleteOAuth2Connect;
};

let services: Services;
let provider: Awaited<ReturnType<typeof startOAuthProviderStandIn>>;
let postmark: Awaited<ReturnType<typeof startPostmarkStandIn>>;
let mcp: Awaited<ReturnType<typeof startMcpStandIn>>;
let privateMcp: Awaited<ReturnType<typeof startMcpStandIn>>;
const REDIRECT_URI = "http://localhost:3000/integrations/linear/callback";

beforeAll(async () => {
  provider = await startOAuthProviderStandIn();
  postmark = await startPostmarkStandIn();
  mcp = await startMcpStandIn();
  privateMcp = await startMcpStandIn({ name: "private-tools", token: "mcp-secret-token" });
  // Echo reads provider locations from its settings, parsed when first imported.
  Object.assign(process.env, {
    LINEAR_CLIENT_ID: provider.clientId,
    LINEAR_CLIENT_SECRET: provider.clientSecret,
    LINEAR_AUTHORIZE_URL: `${provider.url}/authorize`,
    LINEAR_TOKEN_URL: `${provider.url}/token`,
    LINEAR_API_URL: provider.url,
    POSTMARK_API_URL: postmark.url,
  });
  const { prisma } = await import("~/db.server");
  const { seedDemoData } = await import("~/services/seed/seed.server");
  await seedDemoData(prisma);
  services = {
    prisma,
    ...(await import("~/services/integrations/run-integration.server")),
    ...(await import("~/services/integrations/disconnect-integration.server")),
    ...(await import("~/services/integrations/oauth2-connect.server")),
  };
});

afterAll(async () => {
  await Promise.all([provider.close(), postmark.close(), mcp.close(), privateMcp.close()]);
});

async function newUser() {
  return services.prisma.user.create({
    data: { email: `u-${Math.random().toString(36).slice(2)}@example.com`, name: "U", passwordHash: "x" },
    select: { id: true },
  });
}

async function writtenFor(userId: string) {
  const [accounts, events] = await Promise.all([
    services.prisma.integrationAccount.findMany({ where: { userId } }),
    services.prisma.webhookEvent.findMany({ where: { userId }, orderBy: { createdAt: "asc" } }),
  ]);
  return { accounts, events };
}

/** Plays the browser: follows the provider's redirect back to Echo with the state cookie. */
async function oauthRoundTrip(
  userId: string,
  { tamperState = false, otherUserId }: { tamperState?: boolean; otherUserId?: string } = {},
) {
  const started = await services.beginOAuth2Connect({
    userId,
    slug: "linear",
    scopes: ["read"],
    redirectUri: REDIRECT_URI,
  });
  if (!started.ok) throw new Error(started.error);
  const atProvider = await fetch(started.authorizeUrl, { redirect: "manual" });
  const callback = new URL(atProvider.headers.get("location")!);
  if (tamperState) callback.searchParams.set("state", "forged");
  const cookie = started.setCookie.split(";")[0]!;
  return services.completeOAuth2Connect({
    request: new Request(callback, { headers: { Cookie: cookie } }),
    userId: otherUserId ?? userId,
    slug: "linear",
    redirectUri: REDIRECT_URI,
  });
}

describe("OAuth 2.0 integrations (Linear against a local provider)", () => {
  it("exchanges the code with PKCE, asks who the account is, and creates one account with its event", async () => {
    const user = await newUser();
    const checkedBefore = provider.behaviour.pkceChecked;
    const { result } = await oauthRoundTrip(user.id);
    expect(result).toMatchObject({ ok: true, displayName: "Ada Lovelace (ada@example.com)", reconnected: false });
    expect(provider.behaviour.pkceChecked).toBe(checkedBefore + 1);
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ accountId: "user-123", status: "ACTIVE", deletedAt: null });
    expect(accounts[0]!.credentials).not.toMatch(/access|[0-9a-f]{32}/);
    expect(events.map((e) => e.type)).toEqual(["integration.connected"]);
  });

  it("writes nothing when the token exchange fails", async () => {
    const user = await newUser();
    provider.behaviour.tokenError = "invalid_grant";
    try {
      const { result } = await oauthRoundTrip(user.id);
      expect(result).toMatchObject({ ok: false, error: expect.stringContaining("invalid_grant") });
    } finally {
      provider.behaviour.tokenError = null;
    }
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });

  it("says so when the user declines at the provider", async () => {
    const user = await newUser();
    provider.behaviour.deny = true;
    try {
      const { result } = await oauthRoundTrip(user.id);
      expect(result).toMatchObject({ ok: false, error: "You declined the connection at the provider." });
    } finally {
      provider.behaviour.deny = false;
    }
    expect((await writtenFor(user.id)).accounts).toEqual([]);
  });

  it("refuses a forged state and a state started by another user", async () => {
    const user = await newUser();
    const other = await newUser();
    expect((await oauthRoundTrip(user.id, { tamperState: true })).result).toMatchObject({
      ok: false,
      error: expect.stringContaining("did not match"),
    });
    expect((await oauthRoundTrip(user.id, { otherUserId: other.id })).result).toMatchObject({
      ok: false,
      error: expect.stringContaining("another session"),
    });
    expect((await writtenFor(user.id)).accounts).toEqual([]);
    expect((await writtenFor(other.id)).accounts).toEqual([]);
  });
});

describe("the OAuth 2.0 callback's query", () => {
  it("refuses a malformed answer (an oversized code) before talking to the provider", async () => {
    const user = await newUser();
    const started = await services.beginOAuth2Connect({
      userId: user.id,
      slug: "linear",
      scopes: ["read"],
      redirectUri: REDIRECT_URI,
    });
    if (!started.ok) throw new Error(started.error);
    const state = new URL(started.authorizeUrl).searchParams.get("state")!;
    const callback = new URL(REDIRECT_URI);
    callback.search = new URLSearchParams({ state, code: "c".repeat(5000) }).toString();
    const { result, clearCookie } = await services.completeOAuth2Connect({
      request: new Request(callback, { headers: { Cookie: started.setCookie.split(";")[0]! } }),
      userId: user.id,
      slug: "linear",
      redirectUri: REDIRECT_URI,
    });
    expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringContaining("malformed") });
    expect(clearCookie).toMatch(/Max-Age=0/i);
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });
});

describe("API-key integrations (Postmark against a local API)", () => {
  it("checks the key with the provider, then creates the account with encrypted credentials", async () => {
    const user = await newUser();
    const result = await services.connectIntegration({
      userId: user.id,
      slug: "postmark",
      input: { kind: "api_key", apiKey: "pm-valid-token" },
    });
    expect(result).toMatchObject({ ok: true, displayName: "Acme Transactional" });
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts).toMatchObject([{ accountId: "4242", displayName: "Acme Transactional" }]);
    expect(accounts[0]!.credentials).not.toContain("pm-valid-token");
    expect(events).toHaveLength(1);
  });

  it("refuses a wrong key beside the field and creates nothing", async () => {
    const user = await newUser();
    const result = await services.connectIntegration({
      userId: user.id,
      slug: "postmark",
      input: { kind: "api_key", apiKey: "wrong" },
    });
    expect(result).toMatchObject({
      ok: false,
      status: 400,
      field: "apiKey",
      error: expect.stringContaining("did not accept"),
    });
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });

  it("says the provider is unreachable and creates nothing", async () => {
    const user = await newUser();
    await postmark.close();
    try {
      const result = await services.connectIntegration({
        userId: user.id,
        slug: "postmark",
        input: { kind: "api_key", apiKey: "pm-valid-token" },
      });
      expect(result).toMatchObject({
        ok: false,
        status: 502,
        error: "Postmark could not be reached. Try again in a moment.",
      });
    } finally {
      postmark = await startPostmarkStandIn({ port: postmark.port });
    }
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });
});

describe("MCP integrations (a real MCP server on 127.0.0.1)", () => {
  it("performs the initialize handshake and uses the server's info as the account", async () => {
    const user = await newUser();
    const result = await services.connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: `${mcp.url}/mcp` },
    });
    expect(result).toMatchObject({ ok: true, displayName: "acme-docs 2.1.0" });
    const { accounts } = await writtenFor(user.id);
    expect(accounts[0]!.settings).toMatchObject({
      serverName: "acme-docs",
      serverVersion: "2.1.0",
      url: `${mcp.url}/mcp`,
    });
  });

  it("sends the bearer token, and refuses a wrong one beside the field", async () => {
    const user = await newUser();
    const wrong = await services.connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: `${privateMcp.url}/mcp`, token: "nope" },
    });
    expect(wrong).toMatchObject({ ok: false, field: "token" });
    const right = await services.connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: `${privateMcp.url}/mcp`, token: "mcp-secret-token" },
    });
    expect(right).toMatchObject({ ok: true, displayName: "private-tools 2.1.0" });
    expect((await writtenFor(user.id)).accounts).toHaveLength(1);
  });

  it("reports a server that is down and creates nothing", async () => {
    const user = await newUser();
    const down = await startMcpStandIn();
    await down.close();
    const result = await services.connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: `${down.url}/mcp` },
    });
    expect(result).toMatchObject({
      ok: false,
      status: 502,
      field: "url",
      error: expect.stringContaining("Could not complete the MCP handshake"),
    });
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });

  it("re-activates the same account on reconnect, with a second connected event", async () => {
    const user = await newUser();
    const first = await services.connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: `${mcp.url}/mcp` },
    });
    if (!first.ok) throw new Error(first.error);
    expect(
      await services.disconnectIntegration({ userId: user.id, integrationAccountId: first.integrationAccountId }),
    ).toEqual({ ok: true });
    const again = await services.connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: `${mcp.url}/mcp/` },
    });
    expect(again).toMatchObject({ ok: true, integrationAccountId: first.integrationAccountId, reconnected: true });
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ status: "ACTIVE", deletedAt: null });
    expect(events.map((e) => e.type)).toEqual([
      "integration.connected",
      "integration.disconnected",
      "integration.connected",
    ]);
  });
});

describe("outbound safety and races", () => {
  it("does not follow an MCP server that redirects elsewhere, and writes nothing", async () => {
    const user = await newUser();
    const redirector = await listen((_req, res) => {
      res.writeHead(307, { Location: "http://169.254.169.254/mcp" });
      res.end();
    });
    try {
      const refused = await services.connectIntegration({
        userId: user.id,
        slug: "mcp",
        input: { kind: "mcp", url: `${redirector.url}/mcp` },
      });
      expect(refused).toMatchObject({
        ok: false,
        field: "url",
        error: expect.stringContaining("Could not complete the MCP handshake"),
      });
    } finally {
      await redirector.close();
    }
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });

  it("creates one account when the same account is connected twice at once", async () => {
    const user = await newUser();
    const connect = () =>
      services.connectIntegration({
        userId: user.id,
        slug: "postmark",
        input: { kind: "api_key", apiKey: "pm-valid-token" },
      });
    const results = await Promise.all([connect(), connect()]);
    expect(results.map((result) => result.ok)).toEqual([true, true]);
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(["integration.connected", "integration.connected"]);
  });
});

describe("the catalog", () => {
  it("says what to set for an OAuth provider that is not configured, instead of offering to connect", async () => {
    const { presentIntegrations } = await import("~/presenters/IntegrationsPresenter.server");
    const user = await newUser();
    const { catalog } = await presentIntegrations(services.prisma, user.id);
    const bySlug = Object.fromEntries(catalog.map((entry) => [entry.slug, entry]));
    expect(bySlug.linear).toMatchObject({ authType: "OAUTH2", missingSettings: [] });
    expect(bySlug.slack).toMatchObject({ missingSettings: ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"] });
    expect(bySlug.postmark).toMatchObject({ authType: "API_KEY", icon: "/icons/postmark.svg" });
    expect(bySlug.mcp).toMatchObject({ authType: "MCP", icon: "/icons/mcp.svg" });
  });
});

describe("disconnecting", () => {
  it("soft-deletes the account, wipes its credentials and records integration.disconnected; nobody else can", async () => {
    const user = await newUser();
    const stranger = await newUser();
    const connected = await services.connectIntegration({
      userId: user.id,
      slug: "postmark",
      input: { kind: "api_key", apiKey: "pm-valid-token" },
    });
    if (!connected.ok) throw new Error(connected.error);
    expect(
      await services.disconnectIntegration({
        userId: stranger.id,
        integrationAccountId: connected.integrationAccountId,
      }),
    ).toMatchObject({ ok: false, status: 404 });
    expect(
      await services.disconnectIntegration({ userId: user.id, integrationAccountId: connected.integrationAccountId }),
    ).toEqual({ ok: true });
    const { accounts, events } = await writtenFor(user.id);
    expect(accounts[0]).toMatchObject({ status: "DISCONNECTED", credentials: null });
    expect(accounts[0]!.deletedAt).toBeInstanceOf(Date);
    expect(events.map((e) => e.type)).toEqual(["integration.connected", "integration.disconnected"]);
    expect(events[1]!.payload).toMatchObject({
      event: "integration.disconnected",
      integration: { account_id: "4242", provider: "postmark" },
    });
  });
});

describe("the integration-run task", () => {
  async function loadTask() {
    const { loadTaskCatalog } = await import("~/services/jobs/task-catalog.server");
    const catalog = await loadTaskCatalog([path.resolve("trigger/integration-run.ts")]);
    const task = catalog.get("integration-run")!;
    return (payload: unknown) =>
      runInMockTaskContext(({ ctx }) => task.run(payload, { ctx, signal: new AbortController().signal }));
  }

  it("runs SETUP from a sealed payload and creates the account under the SDK's mock task context", async () => {
    const { sealSetupInput } = await import("~/services/integrations/run-integration.server");
    const run = await loadTask();
    const user = await newUser();
    const payload = {
      userId: user.id,
      slug: "postmark",
      input: sealSetupInput({ kind: "api_key", apiKey: "pm-valid-token" }),
    };
    // The payload is stored by the engine and shown on Trigger.dev's dashboard: no key in clear.
    expect(JSON.stringify(payload)).not.toContain("pm-valid-token");
    expect(await run(payload)).toMatchObject({ reconnected: false });
    expect((await writtenFor(user.id)).accounts).toHaveLength(1);

    const wrongKey = run({ ...payload, input: sealSetupInput({ kind: "api_key", apiKey: "bad" }) });
    await expect(wrongKey).rejects.toThrow(AbortTaskRunError);
    await expect(wrongKey).rejects.toThrow("did not accept");
  });

  it("gives up at once on a payload it cannot open, and retries an unreachable provider", async () => {
    const { sealSetupInput } = await import("~/services/integrations/run-integration.server");
    const run = await loadTask();
    const user = await newUser();
    const sealed = sealSetupInput({ kind: "api_key", apiKey: "pm-valid-token" });
    await expect(run({ userId: user.id, slug: "postmark", input: `${sealed}x` })).rejects.toThrow(AbortTaskRunError);
    await expect(
      run({ userId: user.id, slug: "postmark", input: { kind: "api_key", apiKey: "pm-valid-token" } }),
    ).rejects.toThrow(AbortTaskRunError);

    // An unreachable provider is passing trouble: a plain error, so the engine retries the run.
    await postmark.close();
    try {
      const unreachable = run({ userId: user.id, slug: "postmark", input: sealed });
      await expect(unreachable).rejects.toThrow("Postmark could not be reached");
      await expect(unreachable).rejects.not.toBeInstanceOf(AbortTaskRunError);
    } finally {
      postmark = await startPostmarkStandIn({ port: postmark.port });
    }
    expect(await writtenFor(user.id)).toEqual({ accounts: [], events: [] });
  });
});
