import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { hashPassword } from "~/services/auth/password.server";
import { createApiKey } from "~/services/api/api-keys.server";
import { EndpointCreateSchema, createEndpoint } from "~/services/webhooks/endpoints.server";
import { sendTestEvent } from "~/services/webhooks/test-event.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { createAliceAndBob } from "../support/fixtures/alice-and-bob";
import { csrfTokenIn, fetchWithJar, logInOverHttp, type CookieJar } from "../support/http-session";
import { ROUTES, TABLE_EVENT_TYPE, describeRow, isForm, type AliceIds, type RouteCase } from "../support/route-table";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// Every route in the table, called by Bob about Alice's things, by nobody, and by Alice
// without a CSRF token. None may answer with Alice's data or change anything.
let echo: RunningEcho;
let receiver: WebhookReceiver;
const ids: AliceIds = {
  appId: "",
  deliveryId: "",
  endpointId: "",
  endpointDeliveryId: "",
  accountId: "",
  apiKeyId: "",
  userId: "",
  runId: "",
};
type Caller = { jar?: CookieJar; csrf?: string; apiKey?: string };
let alice: Caller;
let bob: Caller;
/** An operator: the only caller the runs console answers. */
let operator: Caller;
/** Strings only Alice's pages and answers contain. */
let aliceMarkers: string[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // No worker: nothing may change the database behind the snapshots but the requests under test.
  echo = await startEchoServer({
    databaseUrl: process.env.DATABASE_URL as string,
    env: { SEED_DEMO_DATA: "false", WORKER_ENABLED: "false" },
  });
  const password = "a-long-password-authz-table";
  const world = await createAliceAndBob(prisma, { password, appName: "Alice's table app" });
  const { alice: a, bob: b, app, apiKey: key } = world;
  await prisma.eventType.create({
    data: { name: TABLE_EVENT_TYPE, description: "The table's own type.", schema: { type: "object" }, example: {} },
  });
  ids.userId = a.id;
  ids.appId = app.id;
  ids.accountId = world.accountId;
  ids.deliveryId = world.deliveryId;
  const endpoint = await createEndpoint(
    { userId: a.id },
    EndpointCreateSchema.parse({
      name: "Alice's endpoint",
      url: `${receiver.url}/alice`,
      customHeaders: { "X-Api-Key": "alice-receiver-credential" },
    }),
  );
  ids.endpointId = endpoint.id;
  const sent = await sendTestEvent({ userId: a.id }, endpoint.id);
  expect(sent.outcome).toBe("delivered");
  ids.endpointDeliveryId = sent.deliveryId;
  ids.apiKeyId = key.record.id;
  const bobKey = await createApiKey(prisma, b.id, { name: "bob-table" });
  if (!bobKey.ok) throw new Error(bobKey.error);

  // A queued run nothing will take (no worker): a cancel or a replay that got through would show.
  ids.runId = (
    await prisma.taskRun.create({
      data: {
        id: randomUUID(),
        taskId: "webhook-event-fanout",
        payload: { eventId: "authz-table" },
        runAt: new Date(Date.now() + 24 * 3_600_000),
      },
    })
  ).id;
  const olive = await prisma.user.create({
    data: {
      email: `operator-${Date.now()}@example.com`,
      name: "Olive",
      passwordHash: await hashPassword(password),
      isOperator: true,
    },
    select: { id: true, email: true },
  });
  const oliveKey = await createApiKey(prisma, olive.id, { name: "olive-table" });
  if (!oliveKey.ok) throw new Error(oliveKey.error);
  const oliveJar = await logInOverHttp(echo.url, olive.email, password);
  operator = {
    jar: oliveJar,
    csrf: csrfTokenIn(await (await fetchWithJar(oliveJar, `${echo.url}/dashboard`)).text()),
    apiKey: oliveKey.key,
  };

  const aliceJar = await logInOverHttp(echo.url, a.email, password);
  alice = {
    jar: aliceJar,
    csrf: csrfTokenIn(await (await fetchWithJar(aliceJar, `${echo.url}/dashboard`)).text()),
    apiKey: key.key,
  };
  const bobJar = await logInOverHttp(echo.url, b.email, password);
  bob = {
    jar: bobJar,
    csrf: csrfTokenIn(await (await fetchWithJar(bobJar, `${echo.url}/dashboard`)).text()),
    apiKey: bobKey.key,
  };
  aliceMarkers = [
    "Alice&#x27;s table app",
    "Alice's table app",
    "Alice&#x27;s endpoint",
    app.clientId,
    ...Object.values(ids),
  ];
}, 90_000);

afterAll(async () => {
  await echo?.stop();
  await receiver?.close();
});

/** Builds the request a row describes, as a given caller (cookies, CSRF token, API key) would send it. */
function send(row: RouteCase, caller: Caller, { withCsrf = true }: { withCsrf?: boolean } = {}): Promise<Response> {
  const url = `${echo.url}${row.path(ids)}`;
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (row.access === "api-key" || row.access === "oauth-bearer" || row.access === "api-operator") {
    if (caller.apiKey) headers.Authorization = `Bearer ${caller.apiKey}`;
    if (row.method !== "GET" && row.method !== "DELETE") {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(row.body?.(ids) ?? {});
    }
  } else if (row.method !== "GET") {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    const fields = new URLSearchParams();
    if (withCsrf && caller.csrf) fields.set("csrf", caller.csrf);
    if (row.intent) fields.set("intent", row.intent);
    for (const [name, value] of Object.entries(row.body?.(ids) ?? {})) fields.set(name, String(value));
    body = fields.toString();
  }
  const init: RequestInit = { method: row.method, headers, body, redirect: "manual" };
  return caller.jar ? fetchWithJar(caller.jar, url, init) : fetch(url, init);
}

/** Everything a request could change, sessions and rate-limit counters aside. */
async function snapshot(): Promise<string> {
  const byId = { orderBy: { id: "asc" as const } };
  const parts = await Promise.all([
    prisma.user.findMany(byId),
    prisma.oAuthClient.findMany(byId),
    prisma.oAuthIntegrationGrant.findMany(byId),
    prisma.oAuthConsent.findMany(byId),
    prisma.integrationAccount.findMany(byId),
    prisma.apiKey.findMany({ ...byId, omit: { lastUsedAt: true } }),
    prisma.webhookEndpoint.findMany(byId),
    prisma.webhookEvent.count(),
    prisma.webhookDelivery.findMany(byId),
    prisma.deliveryAttempt.count(),
    prisma.oAuthAuthorizationCode.findMany(byId),
    prisma.oAuthToken.findMany(byId),
    prisma.taskRun.findMany({ ...byId, omit: { updatedAt: true } }),
    prisma.runAction.count(),
    prisma.eventType.findMany(byId),
    prisma.publishIdempotencyKey.count(),
  ]);
  return JSON.stringify(parts);
}

const named = ROUTES.filter((row) => row.names !== null);
const ownLists = ROUTES.filter((row) => row.names === null && row.method === "GET" && row.access === "session");
const protectedRows = ROUTES.filter(
  (row) => row.access !== "public" && row.access !== "oauth-client" && row.access !== "no-such-method",
);
const forms = ROUTES.filter(isForm);

describe("Bob and Alice's things", () => {
  it.each(named.filter((row) => row.method === "GET").map((row) => [describeRow(row), row] as const))(
    "Alice herself can read them (the ids are right): %s",
    async (_name, row) => {
      // The event catalog's operator-only rows open for an operator (Olive), like the runs console.
      const response = await send(row, row.names === "operator" ? operator : alice);
      expect(response.status).toBe(200);
    },
  );

  it.each(named.map((row) => [describeRow(row), row] as const))(
    "Bob cannot read or change them: %s",
    async (_name, row) => {
      const before = await snapshot();
      const response = await send(row, bob);
      const text = await response.text();
      expect([403, 404], `HTTP ${response.status}: ${text.slice(0, 200)}`).toContain(response.status);
      if (row.access === "api-key") expect(response.headers.get("content-type")).toContain("application/problem+json");
      for (const marker of aliceMarkers) expect(text).not.toContain(marker);
      expect(await snapshot()).toBe(before);
    },
  );

  it.each(ownLists.map((row) => [describeRow(row), row] as const))(
    "Bob's own pages show none of them: %s",
    async (_name, row) => {
      const response = await send(row, bob);
      expect(response.status).toBeLessThan(500);
      const text = await response.text();
      for (const marker of aliceMarkers) expect(text).not.toContain(marker);
    },
  );

  it.each(
    ROUTES.filter((row) => row.access === "api-key" && row.method === "GET" && row.names === null).map(
      (row) => [`${describeRow(row)} ${row.path(ids)}`, row] as const,
    ),
  )("Bob's API lists show none of them: %s", async (_name, row) => {
    const response = await send(row, bob);
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const marker of aliceMarkers) expect(text).not.toContain(marker);
  });
});

describe("anonymous requests", () => {
  it.each(protectedRows.map((row) => [describeRow(row), row] as const))("are refused: %s", async (_name, row) => {
    const before = await snapshot();
    const response = await send(row, {});
    if (row.access === "session" || row.access === "operator") {
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toMatch(/^\/login\?redirectTo=/);
    } else {
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect(await snapshot()).toBe(before);
  });

  it.each(ROUTES.filter((row) => row.access === "oauth-client").map((row) => [describeRow(row), row] as const))(
    "without client credentials get an OAuth error: %s",
    async (_name, row) => {
      const before = await snapshot();
      const response = await send(row, {});
      expect([400, 401]).toContain(response.status);
      expect(((await response.json()) as { error: string }).error).toMatch(/^invalid_/);
      expect(await snapshot()).toBe(before);
    },
  );

  it.each(
    ROUTES.filter((row) => row.access === "public" && row.method === "GET").map(
      (row) => [describeRow(row), row] as const,
    ),
  )("to public routes are answered: %s", async (_name, row) => {
    const response = await send(row, {});
    expect([200, 302, 405]).toContain(response.status);
  });
});

describe("methods a route does not answer", () => {
  it.each(ROUTES.filter((row) => row.access === "no-such-method").map((row) => [describeRow(row), row] as const))(
    "are refused for everyone: %s",
    async (_name, row) => {
      const before = await snapshot();
      for (const caller of [{}, bob]) {
        const response = await send(row, caller);
        expect([404, 405]).toContain(response.status);
      }
      expect(await snapshot()).toBe(before);
    },
  );
});

describe("the runs console", () => {
  const consoleRows = ROUTES.filter((row) => row.access === "operator" || row.access === "api-operator");

  it("covers every runs route and API", () => {
    const files = new Set(consoleRows.map((row) => row.file));
    expect([...files].sort()).toEqual(
      [
        "api.v1.runs",
        "api.v1.runs.$runId",
        "api.v1.runs.$runId.cancel",
        "api.v1.runs.$runId.replay",
        "runs.$runId",
        "runs._index",
        "runs.queues",
      ].sort(),
    );
  });

  it.each(consoleRows.filter((row) => row.method === "GET").map((row) => [describeRow(row), row] as const))(
    "opens for an operator: %s",
    async (_name, row) => {
      const response = await send(row, operator);
      expect(response.status, await response.clone().text()).toBe(200);
    },
  );

  it.each(consoleRows.map((row) => [describeRow(row), row] as const))(
    "does not exist for anyone else (404, nothing changes): %s",
    async (_name, row) => {
      const before = await snapshot();
      for (const caller of [bob, alice]) {
        const response = await send(row, caller);
        const text = await response.text();
        expect(response.status, `HTTP ${response.status}: ${text.slice(0, 200)}`).toBe(404);
        if (row.access === "api-operator")
          expect(response.headers.get("content-type")).toContain("application/problem+json");
        expect(text).not.toContain(ids.runId);
        expect(text).not.toContain("webhook-event-fanout");
      }
      expect(await snapshot()).toBe(before);
    },
  );
});

describe("forms without a CSRF token", () => {
  it.each(forms.map((row) => [describeRow(row), row] as const))(
    "are refused even from the owner: %s",
    async (_name, row) => {
      const before = await snapshot();
      const response = await send(row, row.access === "operator" || row.names === "operator" ? operator : alice, {
        withCsrf: false,
      });
      expect(response.status, await response.clone().text()).toBe(403);
      expect(await response.text()).toMatch(/Reload the page and try again/);
      expect(await snapshot()).toBe(before);
    },
  );
});
