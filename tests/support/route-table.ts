/**
 * Every route in app/routes, with how to call it and whose thing it names. One table for
 * the authorization tests (tests/integration/authorization-table.test.ts), the bad-input
 * tests (tests/integration/bad-input.test.ts), and a guard (tests/unit/route-table.test.ts)
 * that fails when a route file, a method or a form intent is missing from it.
 */

/** Alice's things, created by the test before it runs the table. */
export type AliceIds = {
  appId: string;
  deliveryId: string;
  endpointId: string;
  endpointDeliveryId: string;
  accountId: string;
  apiKeyId: string;
  /** Alice herself (publishing for another user is an operator's right). */
  userId: string;
  /** A TaskRun, queued (the runs console's; nobody's own). */
  runId: string;
};

/** A custom event type the tables create before they run (the catalog is shared, not Alice's). */
export const TABLE_EVENT_TYPE = "authz.table_type";

/**
 * - `public`: anyone (login, signup, the landing page, OAuth metadata).
 * - `session`: a signed-in user; anonymous GETs and POSTs are sent to /login.
 * - `api-key`: the JSON API (`Authorization: Bearer echo_sk_…`); anonymous is a 401 problem.
 * - `oauth-client`: the OAuth token and revocation endpoints; the caller is an OAuth client.
 * - `oauth-bearer`: an OAuth access token; anonymous is a 401.
 * - `no-such-method`: a loader or action that exists only to refuse the method (405, or 404), for everyone.
 * - `operator`: a signed-in operator (the runs console); anonymous is sent to /login, anyone else gets 404.
 * - `api-operator`: an operator's API key; anonymous is a 401 problem, anyone else's key a 404 problem.
 */
export type Access =
  "public" | "session" | "api-key" | "oauth-client" | "oauth-bearer" | "no-such-method" | "operator" | "api-operator";

/** Whose thing the request names: one of Alice's, or only the caller's own (lists, create forms). */
export type Names =
  | "oauth-app"
  | "oauth-app-webhook"
  | "delivery"
  | "endpoint-delivery"
  | "endpoint"
  | "integration"
  | "api-key"
  | "grant"
  /** Only an operator may (the event catalog, publishing for another user): Alice is one, Bob is not. */
  | "operator"
  /** Alice as the user an event is published for. */
  | "user"
  | null;

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type RouteCase = {
  /** The file in app/routes, without its extension. */
  file: string;
  method: Method;
  /** The form's `intent` field (forms), or the JSON `action` field (API), when the route has several. */
  intent?: string;
  access: Access;
  names: Names;
  path: (ids: AliceIds) => string;
  /** Form fields (session/public POSTs, sent urlencoded with the CSRF token) or a JSON body (API). */
  body?: (ids: AliceIds) => Record<string, unknown>;
  /** For the bad-input tests: the schema-shaped fields a valid body has (see bad-input.test.ts). */
  shape?:
    | "oauth-app"
    | "oauth-app-update"
    | "webhook-settings"
    | "api-webhook"
    | "login"
    | "signup"
    | "api-key"
    | "endpoint"
    | "endpoint-update"
    | "endpoint-form"
    | "event-type"
    | "event-type-update"
    | "publish"
    | "publish-batch"
    | "event-type-form";
};

export function isForm(row: RouteCase): boolean {
  return row.method !== "GET" && (row.access === "session" || row.access === "public" || row.access === "operator");
}

const appFields = { name: "Bob's now", redirectUris: "https://b.example/cb", allowedScopes: "openid" };

export const ROUTES: RouteCase[] = [
  // Public pages and metadata.
  { file: "_index", method: "GET", access: "public", names: null, path: () => "/" },
  {
    file: "[.]well-known.oauth-authorization-server",
    method: "GET",
    access: "public",
    names: null,
    path: () => "/.well-known/oauth-authorization-server",
  },
  { file: "login", method: "GET", access: "public", names: null, path: () => "/login" },
  {
    file: "login",
    method: "POST",
    access: "public",
    names: null,
    path: () => "/login",
    body: () => ({ email: "nobody@example.com", password: "not-the-password" }),
    shape: "login",
  },
  { file: "signup", method: "GET", access: "public", names: null, path: () => "/signup" },
  {
    file: "signup",
    method: "POST",
    access: "public",
    names: null,
    path: () => "/signup",
    body: () => ({ name: "Mallory", email: "mallory@example.com", password: "a-long-password-1" }),
    shape: "signup",
  },
  { file: "logout", method: "GET", access: "public", names: null, path: () => "/logout" },
  { file: "logout", method: "POST", access: "public", names: null, path: () => "/logout", body: () => ({}) },

  // The OAuth provider.
  { file: "oauth.authorize", method: "GET", access: "session", names: null, path: () => "/oauth/authorize" },
  {
    file: "oauth.authorize",
    method: "POST",
    access: "session",
    names: null,
    path: () => "/oauth/authorize",
    body: () => ({ decision: "approve" }),
  },
  {
    file: "oauth.token",
    method: "POST",
    access: "oauth-client",
    names: null,
    path: () => "/oauth/token",
    body: () => ({ grant_type: "authorization_code", code: "nope" }),
  },
  { file: "oauth.token", method: "GET", access: "public", names: null, path: () => "/oauth/token" },
  {
    file: "oauth.revoke",
    method: "POST",
    access: "oauth-client",
    names: null,
    path: () => "/oauth/revoke",
    body: () => ({ token: "nope" }),
  },
  { file: "oauth.revoke", method: "GET", access: "public", names: null, path: () => "/oauth/revoke" },
  { file: "oauth.userinfo", method: "GET", access: "oauth-bearer", names: null, path: () => "/oauth/userinfo" },
  { file: "oauth.userinfo", method: "POST", access: "oauth-bearer", names: null, path: () => "/oauth/userinfo" },

  // Pages of a signed-in user.
  { file: "dashboard", method: "GET", access: "session", names: null, path: () => "/dashboard" },
  { file: "developers.apps._index", method: "GET", access: "session", names: null, path: () => "/developers/apps" },
  { file: "developers.apps.new", method: "GET", access: "session", names: null, path: () => "/developers/apps/new" },
  {
    file: "developers.apps.new",
    method: "POST",
    access: "session",
    names: null,
    path: () => "/developers/apps/new",
    body: () => ({ ...appFields, clientType: "CONFIDENTIAL" }),
    shape: "oauth-app",
  },
  {
    file: "developers.apps.$appId._index",
    method: "GET",
    access: "session",
    names: "oauth-app",
    path: (ids) => `/developers/apps/${ids.appId}`,
  },
  {
    file: "developers.apps.$appId._index",
    method: "POST",
    intent: "update",
    access: "session",
    names: "oauth-app",
    path: (ids) => `/developers/apps/${ids.appId}`,
    body: () => appFields,
    shape: "oauth-app-update",
  },
  {
    file: "developers.apps.$appId._index",
    method: "POST",
    intent: "rotate-secret",
    access: "session",
    names: "oauth-app",
    path: (ids) => `/developers/apps/${ids.appId}`,
  },
  {
    file: "developers.apps.$appId._index",
    method: "POST",
    intent: "delete",
    access: "session",
    names: "oauth-app",
    path: (ids) => `/developers/apps/${ids.appId}`,
  },
  {
    file: "developers.apps.$appId.webhook",
    method: "GET",
    access: "session",
    names: "oauth-app-webhook",
    path: (ids) => `/developers/apps/${ids.appId}/webhook`,
  },
  {
    file: "developers.apps.$appId.webhook",
    method: "POST",
    intent: "save",
    access: "session",
    names: "oauth-app-webhook",
    path: (ids) => `/developers/apps/${ids.appId}/webhook`,
    body: () => ({ webhookUrl: "https://b.example/steal", maxRetries: "1", timeoutSeconds: "5" }),
    shape: "webhook-settings",
  },
  ...(["rotate-secret", "reveal-secret", "clear-secret"] as const).map((intent): RouteCase => ({
    file: "developers.apps.$appId.webhook",
    method: "POST",
    intent,
    access: "session",
    names: "oauth-app-webhook",
    path: (ids) => `/developers/apps/${ids.appId}/webhook`,
  })),
  { file: "integrations._index", method: "GET", access: "session", names: null, path: () => "/integrations" },
  {
    file: "integrations._index",
    method: "POST",
    intent: "connect-api-key",
    access: "session",
    names: null,
    path: () => "/integrations?index",
    body: () => ({ slug: "postmark", apiKey: "pm-not-a-valid-token" }),
  },
  {
    file: "integrations._index",
    method: "POST",
    intent: "connect-mcp",
    access: "session",
    names: null,
    path: () => "/integrations?index",
    body: () => ({ slug: "mcp", url: "http://169.254.169.254/latest" }),
  },
  {
    file: "integrations._index",
    method: "POST",
    intent: "disconnect",
    access: "session",
    names: "integration",
    path: () => "/integrations?index",
    body: (ids) => ({ accountId: ids.accountId }),
  },
  {
    file: "integrations.$slug.authorize",
    method: "GET",
    // A plain redirect to /integrations, for everyone: connecting starts with the POST.
    access: "public",
    names: null,
    path: () => "/integrations/linear/authorize",
  },
  {
    file: "integrations.$slug.authorize",
    method: "POST",
    access: "session",
    names: null,
    path: () => "/integrations/no-such-provider/authorize",
  },
  {
    file: "integrations.$slug.callback",
    method: "GET",
    access: "session",
    names: null,
    path: () => "/integrations/linear/callback?code=x&state=y",
  },
  { file: "settings.api-keys", method: "GET", access: "session", names: null, path: () => "/settings/api-keys" },
  {
    file: "settings.api-keys",
    method: "POST",
    intent: "create",
    access: "session",
    names: null,
    path: () => "/settings/api-keys",
    body: () => ({ name: "bob's key" }),
    shape: "api-key",
  },
  {
    file: "settings.api-keys",
    method: "POST",
    intent: "revoke",
    access: "session",
    names: "api-key",
    path: () => "/settings/api-keys",
    body: (ids) => ({ id: ids.apiKeyId }),
  },
  {
    file: "settings.connected-apps",
    method: "GET",
    access: "session",
    names: null,
    path: () => "/settings/connected-apps",
  },
  {
    file: "settings.connected-apps",
    method: "POST",
    intent: "revoke",
    access: "session",
    names: "grant",
    path: () => "/settings/connected-apps",
    body: (ids) => ({ clientDbId: ids.appId }),
  },
  { file: "webhooks._index", method: "GET", access: "session", names: null, path: () => "/webhooks" },
  {
    file: "webhooks.deliveries.$deliveryId",
    method: "GET",
    access: "session",
    names: "delivery",
    path: (ids) => `/webhooks/deliveries/${ids.deliveryId}`,
  },
  {
    file: "webhooks.deliveries.$deliveryId",
    method: "GET",
    access: "session",
    names: "endpoint-delivery",
    path: (ids) => `/webhooks/deliveries/${ids.endpointDeliveryId}`,
  },
  {
    file: "webhooks.deliveries.$deliveryId",
    method: "POST",
    access: "session",
    names: "delivery",
    path: (ids) => `/webhooks/deliveries/${ids.deliveryId}`,
  },
  {
    file: "webhooks.deliveries.$deliveryId",
    method: "POST",
    access: "session",
    names: "endpoint-delivery",
    path: (ids) => `/webhooks/deliveries/${ids.endpointDeliveryId}`,
  },

  // The JSON API.
  { file: "api.v1.oauth-apps", method: "GET", access: "api-key", names: null, path: () => "/api/v1/oauth-apps" },
  {
    file: "api.v1.oauth-apps",
    method: "POST",
    access: "api-key",
    names: null,
    path: () => "/api/v1/oauth-apps",
    body: () => ({
      name: "Bob's",
      clientType: "CONFIDENTIAL",
      redirectUris: ["https://b.example/cb"],
      allowedScopes: ["openid"],
    }),
    shape: "oauth-app",
  },
  {
    file: "api.v1.oauth-apps.$appId",
    method: "GET",
    access: "api-key",
    names: "oauth-app",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}`,
  },
  {
    file: "api.v1.oauth-apps.$appId",
    method: "PATCH",
    access: "api-key",
    names: "oauth-app",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}`,
    body: () => ({ name: "Bob's now" }),
    shape: "oauth-app-update",
  },
  {
    file: "api.v1.oauth-apps.$appId",
    method: "DELETE",
    access: "api-key",
    names: "oauth-app",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}`,
  },
  {
    file: "api.v1.oauth-apps.$appId.rotate-secret",
    method: "POST",
    access: "api-key",
    names: "oauth-app",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}/rotate-secret`,
    body: () => ({}),
  },
  {
    file: "api.v1.oauth-apps.$appId.webhook",
    method: "GET",
    access: "api-key",
    names: "oauth-app-webhook",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}/webhook`,
  },
  {
    file: "api.v1.oauth-apps.$appId.webhook",
    method: "PUT",
    access: "api-key",
    names: "oauth-app-webhook",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}/webhook`,
    body: () => ({ url: "https://b.example/steal" }),
    shape: "api-webhook",
  },
  ...(["rotate-secret", "reveal-secret", "clear-secret"] as const).map((intent): RouteCase => ({
    file: "api.v1.oauth-apps.$appId.webhook",
    method: "POST",
    intent,
    access: "api-key",
    names: "oauth-app-webhook",
    path: (ids) => `/api/v1/oauth-apps/${ids.appId}/webhook`,
    body: () => ({ action: intent }),
  })),
];

/** Loaders and actions that only answer 405 (or 404) to anyone: listed so the guard knows they were looked at. */
function refusals(file: string, method: Method, path: string): RouteCase {
  return { file, method, access: "no-such-method", names: null, path: () => path };
}

const endpointApi = (ids: AliceIds, rest = "") => `/api/v1/endpoints/${ids.endpointId}${rest}`;

ROUTES.push(
  // Webhook endpoints, JSON API (an API key, or an OAuth token with the integration scope).
  { file: "api.v1.endpoints", method: "GET", access: "api-key", names: null, path: () => "/api/v1/endpoints" },
  {
    file: "api.v1.endpoints",
    method: "POST",
    access: "api-key",
    names: null,
    path: () => "/api/v1/endpoints",
    body: () => ({ name: "Bob's", url: "https://b.example/hook" }),
    shape: "endpoint",
  },
  {
    file: "api.v1.endpoints.$endpointId",
    method: "GET",
    access: "api-key",
    names: "endpoint",
    path: (ids) => endpointApi(ids),
  },
  {
    file: "api.v1.endpoints.$endpointId",
    method: "PATCH",
    access: "api-key",
    names: "endpoint",
    path: (ids) => endpointApi(ids),
    body: () => ({ url: "https://b.example/steal" }),
    shape: "endpoint-update",
  },
  {
    file: "api.v1.endpoints.$endpointId",
    method: "DELETE",
    access: "api-key",
    names: "endpoint",
    path: (ids) => endpointApi(ids),
  },
  ...(["[test]", "pause", "resume", "rotate-secret", "retry-failed"] as const).map((action): RouteCase => ({
    file: `api.v1.endpoints.$endpointId.${action}`,
    method: "POST",
    access: "api-key",
    names: "endpoint",
    path: (ids) => endpointApi(ids, `/${action.replace(/[[\]]/g, "")}`),
    body: () => (action === "retry-failed" ? { since: "2020-01-01T00:00:00Z" } : {}),
  })),
  ...(["[test]", "pause", "resume", "rotate-secret", "retry-failed"] as const).map((action) =>
    refusals(`api.v1.endpoints.$endpointId.${action}`, "GET", `/api/v1/endpoints/x/${action.replace(/[[\]]/g, "")}`),
  ),
  ...(["secret", "stats"] as const).flatMap((action): RouteCase[] => [
    {
      file: `api.v1.endpoints.$endpointId.${action}`,
      method: "GET",
      access: "api-key",
      names: "endpoint",
      path: (ids) => endpointApi(ids, `/${action}`),
    },
    refusals(`api.v1.endpoints.$endpointId.${action}`, "POST", `/api/v1/endpoints/x/${action}`),
  ]),
  { file: "api.v1.deliveries", method: "GET", access: "api-key", names: null, path: () => "/api/v1/deliveries" },
  {
    file: "api.v1.deliveries",
    method: "GET",
    access: "api-key",
    names: null,
    path: (ids) => `/api/v1/deliveries?endpointId=${ids.endpointId}`,
  },
  refusals("api.v1.deliveries", "POST", "/api/v1/deliveries"),
  ...(["endpoint-delivery", "delivery"] as const).flatMap((names): RouteCase[] => {
    const id = (ids: AliceIds) => (names === "delivery" ? ids.deliveryId : ids.endpointDeliveryId);
    return [
      {
        file: "api.v1.deliveries.$deliveryId",
        method: "GET",
        access: "api-key",
        names,
        path: (ids) => `/api/v1/deliveries/${id(ids)}`,
      },
      {
        file: "api.v1.deliveries.$deliveryId.retry",
        method: "POST",
        access: "api-key",
        names,
        path: (ids) => `/api/v1/deliveries/${id(ids)}/retry`,
        body: () => ({}),
      },
    ];
  }),
  refusals("api.v1.deliveries.$deliveryId", "POST", "/api/v1/deliveries/x"),
  refusals("api.v1.deliveries.$deliveryId.retry", "GET", "/api/v1/deliveries/x/retry"),
  { file: "api.v1.event-types", method: "GET", access: "api-key", names: null, path: () => "/api/v1/event-types" },
  {
    file: "api.v1.event-types",
    method: "POST",
    access: "api-key",
    names: "operator",
    path: () => "/api/v1/event-types",
    body: () => ({ name: "bob.sneaky_type", description: "Bob's", schema: { type: "object" }, example: {} }),
    shape: "event-type",
  },
  {
    file: "api.v1.event-types.$eventType",
    method: "GET",
    access: "api-key",
    names: null,
    path: () => `/api/v1/event-types/${TABLE_EVENT_TYPE}`,
  },
  {
    file: "api.v1.event-types.$eventType",
    method: "PATCH",
    access: "api-key",
    names: "operator",
    path: () => `/api/v1/event-types/${TABLE_EVENT_TYPE}`,
    body: () => ({ archived: true }),
    shape: "event-type-update",
  },
  refusals("api.v1.event-types.$eventType", "POST", `/api/v1/event-types/${TABLE_EVENT_TYPE}`),
  {
    file: "api.v1.events",
    method: "POST",
    access: "api-key",
    names: "user",
    path: () => "/api/v1/events",
    body: (ids) => ({ eventType: TABLE_EVENT_TYPE, payload: { by: "bob" }, userId: ids.userId }),
    shape: "publish",
  },
  refusals("api.v1.events", "GET", "/api/v1/events"),
  {
    file: "api.v1.events.batch",
    method: "POST",
    access: "api-key",
    names: "user",
    path: () => "/api/v1/events/batch",
    body: (ids) => ({ events: [{ eventType: TABLE_EVENT_TYPE, payload: { by: "bob" }, userId: ids.userId }] }),
    shape: "publish-batch",
  },
  refusals("api.v1.events.batch", "GET", "/api/v1/events/batch"),
  { file: "api.v1.openapi[.]json", method: "GET", access: "public", names: null, path: () => "/api/v1/openapi.json" },
  refusals("api.v1.openapi[.]json", "POST", "/api/v1/openapi.json"),
  refusals("api.v1.oauth-apps.$appId.rotate-secret", "GET", "/api/v1/oauth-apps/x/rotate-secret"),

  // Webhook endpoints, pages.
  {
    file: "webhooks.endpoints._index",
    method: "GET",
    access: "session",
    names: null,
    path: () => "/webhooks/endpoints",
  },
  {
    file: "webhooks.endpoints.new",
    method: "GET",
    access: "session",
    names: null,
    path: () => "/webhooks/endpoints/new",
  },
  {
    file: "webhooks.endpoints.new",
    method: "POST",
    access: "session",
    names: null,
    path: () => "/webhooks/endpoints/new",
    body: () => ({ name: "Bob's", url: "https://b.example/hook", secretMode: "generate", maxRetries: "3" }),
    shape: "endpoint-form",
  },
  {
    file: "webhooks.endpoints.$endpointId._index",
    method: "GET",
    access: "session",
    names: "endpoint",
    path: (ids) => `/webhooks/endpoints/${ids.endpointId}`,
  },
  ...(["reveal-secret", "rotate-secret", "pause", "resume", "delete", "retry-failed"] as const).map(
    (intent): RouteCase => ({
      file: "webhooks.endpoints.$endpointId._index",
      method: "POST",
      intent,
      access: "session",
      names: "endpoint",
      path: (ids) => `/webhooks/endpoints/${ids.endpointId}`,
      body: () => (intent === "retry-failed" ? { since: "2020-01-01T00:00" } : {}),
    }),
  ),
  {
    file: "webhooks.endpoints.$endpointId.edit",
    method: "GET",
    access: "session",
    names: "endpoint",
    path: (ids) => `/webhooks/endpoints/${ids.endpointId}/edit`,
  },
  {
    file: "webhooks.endpoints.$endpointId.edit",
    method: "POST",
    access: "session",
    names: "endpoint",
    path: (ids) => `/webhooks/endpoints/${ids.endpointId}/edit`,
    body: () => ({ name: "Bob's now", url: "https://b.example/steal", maxRetries: "3" }),
    shape: "endpoint-form",
  },
  {
    file: "webhooks.endpoints.$endpointId.stats",
    method: "GET",
    access: "session",
    names: "endpoint",
    path: (ids) => `/webhooks/endpoints/${ids.endpointId}/stats`,
  },
  {
    file: "resources.webhooks.endpoints.$endpointId.test-event",
    method: "POST",
    access: "session",
    names: "endpoint",
    path: (ids) => `/resources/webhooks/endpoints/${ids.endpointId}/test-event`,
  },
  refusals("resources.webhooks.endpoints.$endpointId.test-event", "GET", "/resources/webhooks/endpoints/x/test-event"),

  // The event catalog, pages: everyone reads it; operators change it.
  { file: "event-types._index", method: "GET", access: "session", names: null, path: () => "/event-types" },
  {
    file: "event-types.$eventType",
    method: "GET",
    access: "session",
    names: null,
    path: () => `/event-types/${TABLE_EVENT_TYPE}`,
  },
  { file: "event-types.new", method: "GET", access: "session", names: "operator", path: () => "/event-types/new" },
  {
    file: "event-types.new",
    method: "POST",
    access: "session",
    names: "operator",
    path: () => "/event-types/new",
    body: () => ({ name: "bob.form_type", description: "Bob's", schema: '{"type": "object"}', example: "{}" }),
    shape: "event-type-form",
  },
  ...(["save", "archive", "restore"] as const).map((intent): RouteCase => ({
    file: "event-types.$eventType",
    method: "POST",
    intent,
    access: "session",
    names: "operator",
    path: () => `/event-types/${TABLE_EVENT_TYPE}`,
    body: () => (intent === "save" ? { description: "Bob was here", schema: '{"type": "object"}', example: "{}" } : {}),
  })),
);

// The runs console and its API: operators only; to anyone else they do not exist (404).
const deliveryRun = (ids: AliceIds) => `delivery_${ids.deliveryId}`;
ROUTES.push(
  { file: "runs._index", method: "GET", access: "operator", names: null, path: () => "/runs" },
  {
    file: "runs._index",
    method: "GET",
    access: "operator",
    names: null,
    path: (ids) => `/runs?q=${ids.runId}&status=queued`,
  },
  { file: "runs.queues", method: "GET", access: "operator", names: null, path: () => "/runs/queues" },
  { file: "runs.$runId", method: "GET", access: "operator", names: null, path: (ids) => `/runs/${ids.runId}` },
  { file: "runs.$runId", method: "GET", access: "operator", names: null, path: (ids) => `/runs/${deliveryRun(ids)}` },
  ...(["replay", "cancel"] as const).flatMap((intent): RouteCase[] =>
    [(ids: AliceIds) => ids.runId, deliveryRun].map((run) => ({
      file: "runs.$runId",
      method: "POST",
      intent,
      access: "operator",
      names: null,
      path: (ids) => `/runs/${run(ids)}`,
    })),
  ),
  { file: "api.v1.runs", method: "GET", access: "api-operator", names: null, path: () => "/api/v1/runs" },
  {
    file: "api.v1.runs",
    method: "GET",
    access: "api-operator",
    names: null,
    path: (ids) => `/api/v1/runs?q=${ids.runId}`,
  },
  refusals("api.v1.runs", "POST", "/api/v1/runs"),
  {
    file: "api.v1.runs.$runId",
    method: "GET",
    access: "api-operator",
    names: null,
    path: (ids) => `/api/v1/runs/${ids.runId}`,
  },
  {
    file: "api.v1.runs.$runId",
    method: "GET",
    access: "api-operator",
    names: null,
    path: (ids) => `/api/v1/runs/${deliveryRun(ids)}`,
  },
  refusals("api.v1.runs.$runId", "POST", "/api/v1/runs/x"),
  ...(["replay", "cancel"] as const).flatMap((action): RouteCase[] => [
    ...[(ids: AliceIds) => ids.runId, deliveryRun].map((run): RouteCase => ({
      file: `api.v1.runs.$runId.${action}`,
      method: "POST",
      access: "api-operator",
      names: null,
      path: (ids) => `/api/v1/runs/${run(ids)}/${action}`,
      body: () => ({}),
    })),
    refusals(`api.v1.runs.$runId.${action}`, "GET", `/api/v1/runs/x/${action}`),
  ]),
);

export function describeRow(row: RouteCase): string {
  return `${row.method} ${row.file}${row.intent ? ` (${row.intent})` : ""}${row.names ? ` [${row.names}]` : ""}`;
}
