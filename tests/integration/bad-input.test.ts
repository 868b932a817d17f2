import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { prisma } from "~/db.server";
import { ApiKeyInputSchema, createApiKey } from "~/services/api/api-keys.server";
import { LoginSchema, SignupSchema } from "~/services/auth/accounts.server";
import { hashPassword } from "~/services/auth/password.server";
import {
  OAuthAppInputSchema,
  OAuthAppUpdateSchema,
  WebhookSettingsSchema,
  createOAuthApp,
} from "~/services/oauth/oauth-apps.server";
import {
  EndpointCreateSchema,
  EndpointUpdateSchema,
  RetryFailedSchema,
  RotateSecretSchema,
  createEndpoint,
} from "~/services/webhooks/endpoints.server";
import { EventTypeCreateSchema, EventTypeUpdateSchema } from "~/services/webhooks/event-types.server";
import { PublishBatchSchema, PublishEventSchema } from "~/services/webhooks/publish.server";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { csrfTokenIn, fetchWithJar, logInOverHttp, type CookieJar } from "../support/http-session";
import { ROUTES, TABLE_EVENT_TYPE, isForm } from "../support/route-table";
import { hostileFor, hostileFormFor, hostileString, junk } from "../support/zod-arbitrary";

// Hostile bodies for every JSON API route and form action that takes input: Echo answers
// with a 4xx and a message the caller can act on, never a 5xx, and a refused request
// writes nothing. Runs are few per route so the file stays well under a minute.
const RUNS = 4;
let echo: RunningEcho;
let jar: CookieJar;
let csrf: string;
let apiKey: string;
let appId: string;
let endpointId: string;

beforeAll(async () => {
  echo = await startEchoServer({
    databaseUrl: process.env.DATABASE_URL as string,
    // Loopback is not allowlisted here (the test default allows it for receivers): it must be refused.
    env: { SEED_DEMO_DATA: "false", WORKER_ENABLED: "false", OUTBOUND_ALLOWED_HOSTS: "10.9.8.7,hooks.internal.test" },
  });
  const password = "a-long-password-bad-input";
  // An operator, so that the event catalog's forms and routes get past the role check to the input.
  const user = await prisma.user.create({
    data: {
      email: `fuzz-${Date.now()}@example.com`,
      name: "Fuzz",
      passwordHash: await hashPassword(password),
      isOperator: true,
    },
    select: { id: true, email: true },
  });
  await prisma.eventType.create({
    data: {
      name: TABLE_EVENT_TYPE,
      description: "Fuzzed.",
      schema: { type: "object", properties: { n: { type: "integer" } } },
      example: {},
    },
  });
  const app = await createOAuthApp(prisma, user.id, {
    name: "Fuzzed app",
    clientType: "CONFIDENTIAL",
    redirectUris: ["https://fuzz.example/cb"],
    allowedScopes: ["openid", "integration"],
  });
  appId = app.id;
  endpointId = (
    await createEndpoint(
      { userId: user.id },
      EndpointCreateSchema.parse({ name: "Fuzzed endpoint", url: "https://fuzz.example/hook" }),
    )
  ).id;
  const key = await createApiKey(prisma, user.id, { name: "fuzz" });
  if (!key.ok) throw new Error(key.error);
  apiKey = key.key;
  jar = await logInOverHttp(echo.url, user.email, password);
  csrf = csrfTokenIn(await (await fetchWithJar(jar, `${echo.url}/dashboard`)).text());
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

/** A fingerprint of every row a request could write (sessions, rate limits and key usage times aside). */
async function fingerprint(): Promise<string> {
  const tables = [
    "User",
    "OAuthClient",
    "OAuthIntegrationGrant",
    "OAuthConsent",
    "OAuthAuthorizationCode",
    "OAuthToken",
    "IntegrationAccount",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookDelivery",
    "TaskRun",
    "EventType",
  ];
  const parts = tables.map(
    (table) => `(SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t."id")), '') FROM "${table}" t)`,
  );
  const [row] = await prisma.$queryRawUnsafe<{ print: string }[]>(
    `SELECT concat_ws(',', ${parts.join(", ")},
      (SELECT coalesce(md5(string_agg((to_jsonb(k) - 'lastUsedAt')::text, '|' ORDER BY k."id")), '') FROM "ApiKey" k)) AS print`,
  );
  return row!.print;
}

type Sent = { status: number; type: string; text: string };

async function api(method: string, path: string, body: string | undefined, contentType = "application/json") {
  const response = await fetch(`${echo.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "Content-Type": contentType }) },
    body,
  });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

async function form(path: string, fields: [string, string][], { contentType }: { contentType?: string } = {}) {
  const body = new URLSearchParams([["csrf", csrf], ...fields]);
  const response = await fetchWithJar(jar, `${echo.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": contentType ?? "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

/** Never a 5xx; a refusal is a 4xx with a message, and leaves the database as it was. */
async function expectSafeAnswer(
  kind: "api" | "form" | "oauth",
  send: () => Promise<Sent>,
  { upstream = false }: { upstream?: boolean } = {},
): Promise<Sent> {
  const before = await fingerprint();
  const answer = await send();
  // Connecting an integration calls the provider, which is unreachable here: Echo says so with a 502.
  if (!(upstream && answer.status === 502)) expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  if (answer.status >= 400) {
    if (kind === "api") {
      expect(answer.type).toContain("application/problem+json");
      const problem = JSON.parse(answer.text) as { title?: string; detail?: string; errors?: unknown[] };
      expect(typeof problem.title).toBe("string");
      expect(problem.detail ?? problem.errors).toBeTruthy();
    } else if (kind === "oauth") {
      expect((JSON.parse(answer.text) as { error?: string }).error).toMatch(/^[a-z_]+$/);
    } else {
      // A page that says what went wrong, beside the field or in the error boundary.
      expect(answer.type).toContain("text/html");
      expect(answer.text).toMatch(/role="alert"|<h1/);
    }
    expect(await fingerprint(), `HTTP ${answer.status} changed the database`).toBe(before);
  }
  return answer;
}

const apiTargets: {
  name: string;
  method: string;
  path: () => string;
  body: fc.Arbitrary<unknown>;
  /** An empty body means "nothing to choose" here (a generated secret), not a mistake. */
  emptyBodyOk?: boolean;
}[] = [
  {
    name: "create an OAuth app",
    method: "POST",
    path: () => "/api/v1/oauth-apps",
    body: hostileFor(OAuthAppInputSchema),
  },
  {
    name: "change an OAuth app",
    method: "PATCH",
    path: () => `/api/v1/oauth-apps/${appId}`,
    body: hostileFor(OAuthAppUpdateSchema.partial()),
  },
  {
    name: "set the webhook",
    method: "PUT",
    path: () => `/api/v1/oauth-apps/${appId}/webhook`,
    body: hostileFor(
      z.object({
        url: z.string().nullable(),
        maxRetries: WebhookSettingsSchema.shape.maxRetries.optional(),
        timeoutSeconds: WebhookSettingsSchema.shape.timeoutSeconds.optional(),
      }),
    ),
  },
  {
    name: "act on the webhook secret",
    method: "POST",
    path: () => `/api/v1/oauth-apps/${appId}/webhook`,
    body: hostileFor(z.object({ action: z.enum(["rotate-secret", "reveal-secret", "clear-secret"]) })),
  },
  {
    name: "create an endpoint",
    method: "POST",
    path: () => "/api/v1/endpoints",
    body: hostileFor(EndpointCreateSchema),
  },
  {
    name: "change an endpoint",
    method: "PATCH",
    path: () => `/api/v1/endpoints/${endpointId}`,
    body: hostileFor(EndpointUpdateSchema),
  },
  {
    name: "rotate an endpoint's secret",
    method: "POST",
    path: () => `/api/v1/endpoints/${endpointId}/rotate-secret`,
    body: hostileFor(RotateSecretSchema),
    emptyBodyOk: true,
  },
  {
    name: "retry an endpoint's failed deliveries",
    method: "POST",
    path: () => `/api/v1/endpoints/${endpointId}/retry-failed`,
    body: hostileFor(RetryFailedSchema),
  },
  {
    name: "create an event type",
    method: "POST",
    path: () => "/api/v1/event-types",
    body: hostileFor(EventTypeCreateSchema),
  },
  {
    name: "change an event type",
    method: "PATCH",
    path: () => `/api/v1/event-types/${TABLE_EVENT_TYPE}`,
    body: hostileFor(EventTypeUpdateSchema),
  },
  { name: "publish an event", method: "POST", path: () => "/api/v1/events", body: hostileFor(PublishEventSchema) },
  {
    name: "publish a batch of events",
    method: "POST",
    path: () => "/api/v1/events/batch",
    body: hostileFor(PublishBatchSchema),
  },
];

describe("the JSON API, given hostile bodies", () => {
  it("covers every API route that reads a body", () => {
    const withBodies = ROUTES.filter(
      (row) => row.access === "api-key" && row.body && !row.path.toString().includes("rotate-secret"),
    );
    for (const row of withBodies) {
      expect(
        apiTargets.some((target) => target.method === row.method),
        row.file,
      ).toBe(true);
    }
  });

  it.each(apiTargets.map((target) => [target.name, target] as const))(
    "%s: schema-shaped garbage",
    async (_name, target) => {
      await fc.assert(
        fc.asyncProperty(target.body, async (body) => {
          await expectSafeAnswer("api", () => api(target.method, target.path(), JSON.stringify(body ?? null)));
        }),
        { numRuns: RUNS },
      );
    },
    60_000,
  );

  it.each(apiTargets.map((target) => [target.name, target] as const))(
    "%s: not JSON, wrong content types, deep nesting, a 2 MB body",
    async (_name, target) => {
      const cases: [string | undefined, string | undefined, number[]][] = [
        ["{not json", "application/json", [400]],
        ['{"name": "x"', "application/json", [400]],
        ["", "application/json", target.emptyBodyOk ? [200] : [400]],
        ["name=x", "application/x-www-form-urlencoded", [415]],
        ["<x/>", "text/xml", [415]],
        ['--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--', "multipart/form-data; boundary=b", [415]],
        [undefined, undefined, target.emptyBodyOk ? [200] : [400, 415]],
        ["[".repeat(20_000) + "]".repeat(20_000), "application/json", [400]],
        [JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }), "application/json", [400, 413]],
      ];
      for (const [body, type, statuses] of cases) {
        const answer = await expectSafeAnswer("api", () => api(target.method, target.path(), body, type));
        expect(statuses, `${type} ${String(body).slice(0, 40)} → ${answer.status}`).toContain(answer.status);
      }
    },
    60_000,
  );
});

const formTargets: {
  name: string;
  path: () => string;
  fields: fc.Arbitrary<[string, string][]>;
  kind?: "oauth";
  upstream?: boolean;
}[] = [
  { name: "new OAuth app", path: () => "/developers/apps/new", fields: hostileFormFor(OAuthAppInputSchema) },
  {
    name: "edit an OAuth app",
    path: () => `/developers/apps/${appId}`,
    fields: hostileFormFor(OAuthAppUpdateSchema).map((fields) => [["intent", "update"], ...fields]),
  },
  {
    name: "webhook settings",
    path: () => `/developers/apps/${appId}/webhook`,
    fields: hostileFormFor(WebhookSettingsSchema).map((fields) => [["intent", "save"], ...fields]),
  },
  { name: "new API key", path: () => "/settings/api-keys", fields: hostileFormFor(ApiKeyInputSchema) },
  {
    name: "connect an integration",
    path: () => "/integrations?index",
    upstream: true,
    fields: fc
      .tuple(
        fc.constantFrom("connect-api-key", "connect-mcp", "disconnect"),
        hostileFormFor(
          z.object({ slug: z.string(), apiKey: z.string(), url: z.string(), token: z.string(), accountId: z.string() }),
        ),
      )
      .map(([intent, fields]) => [["intent", intent], ...fields]),
  },
  {
    name: "revoke an app's access",
    path: () => "/settings/connected-apps",
    fields: hostileFormFor(z.object({ clientDbId: z.string() })),
  },
  { name: "consent", path: () => "/oauth/authorize", fields: hostileFormFor(z.object({ decision: z.string() })) },
  {
    name: "consent with a hostile query",
    path: () => "/oauth/authorize?client_id=x%27--&redirect_uri=javascript:alert(1)&response_type=token&scope=%0d%0a",
    fields: hostileFormFor(z.object({ decision: z.string() })),
  },
  {
    name: "new endpoint",
    path: () => "/webhooks/endpoints/new",
    fields: hostileFormFor(
      z.object({
        name: z.string(),
        url: z.string(),
        secretMode: z.enum(["generate", "paste"]),
        secret: z.string(),
        eventTypes: z.string(),
        enabled: z.string(),
        headerName: z.string(),
        headerValue: z.string(),
        maxRetries: z.string(),
        retryBaseDelaySeconds: z.string(),
        timeoutSeconds: z.string(),
      }),
    ),
  },
  {
    name: "edit an endpoint",
    path: () => `/webhooks/endpoints/${endpointId}/edit`,
    fields: hostileFormFor(
      z.object({
        name: z.string(),
        url: z.string(),
        headerName: z.string(),
        headerValue: z.string(),
        headerKept: z.string(),
      }),
    ),
  },
  {
    name: "retry an endpoint's failed deliveries (form)",
    path: () => `/webhooks/endpoints/${endpointId}`,
    fields: hostileFormFor(z.object({ since: z.string() })).map((fields) => [["intent", "retry-failed"], ...fields]),
  },
  {
    name: "new event type",
    path: () => "/event-types/new",
    fields: hostileFormFor(
      z.object({ name: z.string(), description: z.string(), schema: z.string(), example: z.string() }),
    ),
  },
  {
    name: "edit an event type",
    path: () => `/event-types/${TABLE_EVENT_TYPE}`,
    fields: fc
      .tuple(
        fc.constantFrom("save", "archive", "restore", "bogus"),
        hostileFormFor(z.object({ description: z.string(), schema: z.string(), example: z.string() })),
      )
      .map(([intent, fields]) => [["intent", intent], ...fields]),
  },
  { name: "log in", path: () => "/login", fields: hostileFormFor(LoginSchema) },
  { name: "sign up", path: () => "/signup", fields: hostileFormFor(SignupSchema) },
  {
    name: "token endpoint",
    path: () => "/oauth/token",
    kind: "oauth",
    fields: hostileFormFor(
      z.object({
        grant_type: z.string(),
        code: z.string(),
        client_id: z.string(),
        client_secret: z.string(),
        refresh_token: z.string(),
      }),
    ),
  },
  {
    name: "revocation endpoint",
    path: () => "/oauth/revoke",
    kind: "oauth",
    fields: hostileFormFor(z.object({ token: z.string(), token_type_hint: z.string(), client_id: z.string() })),
  },
];

describe("forms, given hostile fields", () => {
  it("cover every form action that takes input", () => {
    const ids = { appId: ":id", endpointId: ":eid" } as Parameters<(typeof ROUTES)[number]["path"]>[0];
    const paths = new Set(
      ROUTES.filter((row) => isForm(row) && Object.keys(row.body?.(ids) ?? {}).length > 0).map(
        (row) => row.path(ids).split("?")[0]!,
      ),
    );
    for (const path of paths) {
      expect(
        formTargets.some(
          (target) => target.path().replace(appId, ":id").replace(endpointId, ":eid").split("?")[0] === path,
        ),
        path,
      ).toBe(true);
    }
  });

  it.each(formTargets.map((target) => [target.name, target] as const))(
    "%s",
    async (_name, target) => {
      await fc.assert(
        fc.asyncProperty(target.fields, async (fields) => {
          await expectSafeAnswer(target.kind ?? "form", () => form(target.path(), fields), {
            upstream: target.upstream,
          });
        }),
        { numRuns: RUNS },
      );
    },
    60_000,
  );

  it.each(formTargets.map((target) => [target.name, target] as const))(
    "%s: a JSON or multipart body, a body that is not a form, 2 MB of fields",
    async (_name, target) => {
      const cases: [string, string, number[]][] = [
        [JSON.stringify({ csrf, name: "x" }), "application/json", target.kind ? [400, 401] : [415]],
        ["%%%&&&==", "application/x-www-form-urlencoded", [400, 401, 403]],
        ["--b\r\nbroken", "multipart/form-data; boundary=b", target.kind ? [400, 401] : [415]],
        ["", "text/plain", target.kind ? [400, 401] : [415]],
        [
          new URLSearchParams({ csrf, name: "x".repeat(2 * 1024 * 1024) }).toString(),
          "application/x-www-form-urlencoded",
          [413],
        ],
      ];
      for (const [body, type, statuses] of cases) {
        const answer = await expectSafeAnswer(target.kind ?? "form", async () => {
          const response = await fetchWithJar(jar, `${echo.url}${target.path()}`, {
            method: "POST",
            headers: { "Content-Type": type },
            body,
          });
          return {
            status: response.status,
            type: response.headers.get("content-type") ?? "",
            text: await response.text(),
          };
        });
        expect(statuses, `${type} → ${answer.status}`).toContain(answer.status);
      }
    },
    60_000,
  );
});

describe("webhook URLs", () => {
  const put = (url: unknown) => api("PUT", `/api/v1/oauth-apps/${appId}/webhook`, JSON.stringify({ url }));

  it.each(
    [
      "ftp://example.com/hook",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "gopher://example.com:70/",
      "https://user:pass@example.com/hook",
      "https://user@example.com/hook",
      "http://127.0.0.1/hook",
      "http://localhost:3000/hook",
      "http://localhost./hook",
      "http://vm/hook",
      "http://10.0.0.1/hook",
      "http://192.168.1.1/hook",
      "http://172.16.0.1/hook",
      "http://100.64.0.1/hook",
      "http://169.254.169.254/latest/meta-data/",
      "http://[fd00:ec2::254]/",
      "http://[::1]/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://[::ffff:7f00:1]/hook",
      "http://[fe80::1]/hook",
      "http://[64:ff9b::a9fe:a9fe]/hook",
      "http://2130706433/hook",
      "http://0177.0.0.1/hook",
      "http://0x7f.1/hook",
      "http://127.1/hook",
      "http://0/hook",
      "http://017700000001/hook",
      "http://3232235777/hook",
      "https://example.com/hook#fragment",
      "https://exa mple.com/hook",
      "https://example.com/\r\nX: 1",
      `https://example.com/${"a".repeat(2100)}`,
    ].map((url) => [url.length > 80 ? `${url.slice(0, 40)}… (${url.length} characters)` : url, url]),
  )("refuses %s with a problem naming the url field, and keeps the old URL", async (_label, url) => {
    const before = await fingerprint();
    const answer = await put(url);
    expect(answer.status).toBe(400);
    expect(answer.type).toContain("application/problem+json");
    const problem = JSON.parse(answer.text) as { errors: { field: string; message: string }[] };
    expect(problem.errors[0]).toMatchObject({ field: "url" });
    expect(problem.errors[0]!.message.length).toBeGreaterThan(10);
    expect(await fingerprint()).toBe(before);
  });

  it("accepts a private address or internal name only when it is allowlisted, and never cloud metadata", async () => {
    expect((await put("http://10.9.8.7/hook")).status).toBe(200);
    expect((await put("http://hooks.internal.test/hook")).status).toBe(200);
    expect((await put("http://10.9.8.8/hook")).status).toBe(400);
    expect((await put("https://hooks.example.com/hook")).status).toBe(200);
    expect((await prisma.oAuthClient.findUniqueOrThrow({ where: { id: appId } })).webhookUrl).toBe(
      "https://hooks.example.com/hook",
    );
  });

  it("refuses any string that is not an http(s) URL to a public host", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileString,
          junk.map((value) => JSON.stringify(value)),
        ),
        async (url) => {
          const answer = await expectSafeAnswer("api", () => put(url));
          // An empty URL is how webhooks are switched off.
          if (answer.status === 200 && url.trim() !== "") expect(url.trim()).toMatch(/^https?:\/\//i);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

describe("oversized requests", () => {
  it("refuses a 100 KB header with 431, and keeps serving", async () => {
    const response = await fetch(`${echo.url}/login`, { headers: { "X-Big": "x".repeat(100 * 1024) } }).catch(
      (error: Error) => error,
    );
    if (response instanceof Error) throw response;
    expect(response.status).toBe(431);
    expect((await fetch(`${echo.url}/login`)).status).toBe(200);
  });

  it("refuses a 2 MB JSON body with 413 problem+json before reading it all", async () => {
    const answer = await expectSafeAnswer("api", () =>
      api("POST", "/api/v1/oauth-apps", JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) })),
    );
    expect(answer.status).toBe(413);
  });

  it("refuses a 2 MB form with 413", async () => {
    const answer = await form("/developers/apps/new", [["name", "x".repeat(2 * 1024 * 1024)]]);
    expect(answer.status).toBe(413);
  });
});

/** Schema-valid bodies, to poison one field at a time. */
const validApiBodies: { method: string; path: () => string; body: Record<string, unknown> }[] = [
  {
    method: "POST",
    path: () => "/api/v1/oauth-apps",
    body: { name: "ok", clientType: "PUBLIC", redirectUris: ["https://ok.example/cb"], allowedScopes: ["openid"] },
  },
  {
    method: "PATCH",
    path: () => `/api/v1/oauth-apps/${appId}`,
    body: { name: "ok", redirectUris: ["https://ok.example/cb"] },
  },
  { method: "PUT", path: () => `/api/v1/oauth-apps/${appId}/webhook`, body: { url: "https://ok.example/hook" } },
  {
    method: "POST",
    path: () => "/api/v1/events",
    body: { eventType: TABLE_EVENT_TYPE, payload: { n: 1 }, idempotencyKey: "k-1" },
  },
  {
    method: "POST",
    path: () => "/api/v1/event-types",
    body: { name: "fuzz.poisoned", description: "ok", schema: { type: "object" }, example: {} },
  },
];
const validForms: { path: () => string; fields: Record<string, string>; kind?: "oauth"; upstream?: boolean }[] = [
  {
    path: () => "/developers/apps/new",
    fields: { name: "ok", clientType: "PUBLIC", redirectUris: "https://ok.example/cb", allowedScopes: "openid" },
  },
  {
    path: () => `/developers/apps/${appId}`,
    fields: { intent: "update", name: "ok", redirectUris: "https://ok.example/cb", allowedScopes: "openid" },
  },
  {
    path: () => `/developers/apps/${appId}/webhook`,
    fields: { intent: "save", webhookUrl: "https://ok.example/hook", maxRetries: "3", timeoutSeconds: "10" },
  },
  { path: () => "/settings/api-keys", fields: { name: "ok" } },
  {
    path: () => "/event-types/new",
    fields: { name: "fuzz.form_poisoned", description: "ok", schema: '{"type": "object"}', example: "{}" },
  },
  {
    path: () => `/event-types/${TABLE_EVENT_TYPE}`,
    fields: { intent: "save", description: "ok", schema: '{"type": "object"}', example: "{}" },
  },
  {
    path: () => "/integrations?index",
    fields: { intent: "connect-api-key", slug: "postmark", apiKey: "pm-key" },
    upstream: true,
  },
  {
    path: () => "/integrations?index",
    fields: { intent: "connect-mcp", slug: "mcp", url: "https://mcp.example/", token: "t" },
    upstream: true,
  },
  { path: () => "/integrations?index", fields: { intent: "disconnect", accountId: "acct" } },
  { path: () => "/settings/connected-apps", fields: { clientDbId: "app" } },
  { path: () => "/login", fields: { email: "fuzz@example.com", password: "a-long-password" } },
  { path: () => "/signup", fields: { name: "ok", email: "poison@example.com", password: "a-long-password" } },
  {
    path: () => "/oauth/token",
    kind: "oauth",
    fields: {
      grant_type: "authorization_code",
      code: "c",
      client_id: "x",
      client_secret: "s",
      redirect_uri: "https://a.example/cb",
      code_verifier: "v",
    },
  },
  {
    path: () => "/oauth/token",
    kind: "oauth",
    fields: { grant_type: "refresh_token", refresh_token: "r", client_id: "x" },
  },
  { path: () => "/oauth/revoke", kind: "oauth", fields: { token: "t", client_id: "x", client_secret: "s" } },
];
/** Values PostgreSQL, JSON or HTTP handle badly, each placed in one field at a time. */
const POISON = ["a\u0000b", "\ud800", "x".repeat(100_000)];
const label = (path: string) => path.replace(appId, ":id");

describe("poison in one field at a time", () => {
  it.each(validApiBodies.map((target) => [`${target.method} ${label(target.path())}`, target] as const))(
    "%s",
    async (_name, target) => {
      for (const field of Object.keys(target.body)) {
        for (const poison of POISON) {
          const value = Array.isArray(target.body[field]) ? [poison] : poison;
          await expectSafeAnswer("api", () =>
            api(target.method, target.path(), JSON.stringify({ ...target.body, [field]: value })),
          );
        }
      }
    },
    60_000,
  );

  it.each(validForms.map((target) => [`${label(target.path())} ${target.fields.intent ?? ""}`, target] as const))(
    "POST %s",
    async (_name, target) => {
      for (const field of Object.keys(target.fields).filter((name) => name !== "intent")) {
        for (const poison of POISON) {
          await expectSafeAnswer(
            target.kind ?? "form",
            () => form(target.path(), Object.entries({ ...target.fields, [field]: poison })),
            { upstream: target.upstream },
          );
        }
      }
    },
    60_000,
  );

  it.each([
    "/oauth/authorize?client_id=%00",
    "/oauth/authorize?client_id=%C0%80",
    `/oauth/authorize?client_id=${"x".repeat(10_000)}`,
    "/oauth/authorize?client_id=x'--&redirect_uri=javascript:alert(1)&response_type=token&scope=%0d%0a",
    "/webhooks?status=%00&cursor=%ff%fe",
    "/webhooks?cursor=not-a-cursor",
    "/webhooks?status=bogus&status=FAILED",
    "/webhooks/deliveries/%00",
    `/webhooks/deliveries/${"x".repeat(5_000)}`,
    `/developers/apps/${"%E2%80%AE".repeat(50)}`,
    "/integrations/%00/callback?code=x&state=y",
    `/webhooks/endpoints/${"x".repeat(100)}`,
    `/webhooks/endpoints/${"x".repeat(100)}/edit`,
    `/webhooks/endpoints/${"x".repeat(100)}/stats`,
    "/webhooks/endpoints/x/stats?range=%ff&since=yesterday",
    `/api/v1/endpoints/${"x".repeat(5_000)}`,
    `/api/v1/event-types/${"x".repeat(5_000)}`,
    "/api/v1/event-types?includeArchived=maybe&extra=1",
    `/event-types/${"%E2%80%AE".repeat(50)}`,
    "/api/v1/deliveries?status=bogus&since=never&limit=-1&cursor=%ff",
  ])("GET %s", async (path) => {
    if (path.startsWith("/api/")) {
      await expectSafeAnswer("api", () => api("GET", path, undefined));
      return;
    }
    await expectSafeAnswer("form", async () => {
      const response = await fetchWithJar(jar, `${echo.url}${path}`);
      return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
    });
  });
});
