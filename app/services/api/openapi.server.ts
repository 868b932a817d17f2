import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { SUPPORTED_SCOPES } from "~/lib/oauth-scopes";
import {
  ApiDeliveryDetailSchema,
  ApiDeliveryListSchema,
  ApiDeliverySummarySchema,
} from "~/presenters/ApiDeliveryPresenter.server";
import {
  ApiEndpointCreatedSchema,
  ApiEndpointListSchema,
  ApiEndpointSchema,
  ApiEndpointSecretSchema,
  ApiRotatedSecretSchema,
} from "~/presenters/ApiEndpointPresenter.server";
import { ApiEventTypeListSchema, ApiEventTypeSchema } from "~/presenters/ApiEventTypePresenter.server";
import { ApiOAuthAppSchema, ApiOAuthAppWebhookSchema } from "~/presenters/ApiOAuthAppPresenter.server";
import { ApiPublishedBatchSchema, ApiPublishedEventSchema } from "~/presenters/ApiPublishedEventPresenter.server";
import { ApiRunListSchema, ApiRunSchema } from "~/presenters/ApiRunPresenter.server";
import { ApiTestSendSchema } from "~/presenters/ApiTestSendPresenter.server";
import { RunListFiltersSchema } from "~/services/runs/run-list.server";
import { RunParamsSchema } from "~/services/runs/run-params.server";
import { DeliveryListFiltersSchema } from "~/services/webhooks/delivery-log.server";
import type { CatalogEntry } from "~/services/webhooks/event-types.server";
import { EndpointStatsSchema, StatsQuerySchema } from "~/services/webhooks/endpoint-stats.server";
import {
  EndpointCreateSchema,
  EndpointUpdateSchema,
  RetryFailedSchema,
  RotateSecretSchema,
} from "~/services/webhooks/endpoints.server";
import {
  EventTypeCreateSchema,
  EventTypeListQuerySchema,
  EventTypeUpdateSchema,
} from "~/services/webhooks/event-types.server";
import { IdempotencyKeySchema, PublishBatchSchema, PublishEventSchema } from "~/services/webhooks/publish.server";
import { ENDPOINTS_OAUTH_SCOPE } from "./authenticate.server";
import {
  OAuthAppCreateBodySchema,
  OAuthAppPatchBodySchema,
  OAuthAppWebhookPutBodySchema,
  OAuthAppWebhookSecretActionSchema,
} from "./oauth-app-requests.server";
import { eventWebhooks } from "./openapi-webhooks.server";
import {
  DeliveryParamsSchema,
  EndpointParamsSchema,
  EventTypeParamsSchema,
  OAuthAppParamsSchema,
} from "./request.server";

/**
 * The OpenAPI 3.1 document of /api/v1, built from the zod schemas the routes parse with and
 * the presenters answer with: this module maps each route to them, and nothing else
 * describes the API. A test checks that every route file is here and every path has a file.
 */

const ProblemSchema = z
  .object({
    type: z.string(),
    status: z.number().int(),
    title: z.string(),
    detail: z.string().optional(),
    errors: z
      .array(
        z.object({
          field: z
            .string()
            .nullable()
            .meta({ description: "The path of the failing field, e.g. `customHeaders.X-Key`." }),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details." });

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input: the failing fields are in `errors`.",
  401: "No valid API key or access token.",
  403: `The access token lacks the \`${ENDPOINTS_OAUTH_SCOPE}\` scope.`,
  404: "Not found, or not yours.",
  405: "Method not allowed.",
  409: "Conflict with the current state (a limit reached, a delivery not failed).",
  413: "Too large.",
  415: "The body is not `application/json`.",
  503: "The job queue did not answer. What the detail says is recorded stands, and is sent once the queue answers: no need to repeat the request.",
};

/** Problem responses: a status with the usual description, or `[status, description]` for an operation's own. */
function problems(...statuses: (number | [number, string])[]) {
  return Object.fromEntries(
    statuses.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, PROBLEM_DESCRIPTIONS[entry] ?? "Error"];
      return [String(status), { description, content: { "application/problem+json": { schema: ProblemSchema } } }];
    }),
  );
}

const json = (schema: z.ZodType) => ({ "application/json": { schema } });
const ok = (description: string, schema: z.ZodType, status = "200") => ({
  [status]: { description, content: json(schema) },
});
const NO_STORE_HEADER = {
  "Cache-Control": { description: "`no-store`: the answer holds a secret.", schema: { type: "string" as const } },
};
const body = (schema: z.ZodType, required = true) => ({ required, content: json(schema) });

/** Personal API keys and OAuth tokens with `integration`: the webhook API. */
const ENDPOINT_SECURITY: Record<string, string[]>[] = [{ apiKey: [] }, { oauth2: [ENDPOINTS_OAUTH_SCOPE] }];
/** Personal API keys only: managing OAuth apps. */
const OWNER_SECURITY: Record<string, string[]>[] = [{ apiKey: [] }];

function endpointsOperation(
  operation: Omit<ZodOpenApiOperationObject, "security" | "tags"> & { tags?: string[] },
): ZodOpenApiOperationObject {
  return { tags: ["Endpoints"], ...operation, security: ENDPOINT_SECURITY };
}

function oauthAppsOperation(
  operation: Omit<ZodOpenApiOperationObject, "security" | "tags">,
): ZodOpenApiOperationObject {
  return { tags: ["OAuth apps"], ...operation, security: OWNER_SECURITY };
}

/** Publishing and managing the catalog take a personal API key; writing the catalog, an operator's. */
function eventsOperation(operation: Omit<ZodOpenApiOperationObject, "security" | "tags">): ZodOpenApiOperationObject {
  return { tags: ["Events"], ...operation, security: OWNER_SECURITY };
}
const OPERATOR_ONLY: [number, string] = [403, "Only an operator manages the event catalog."];
const IDEMPOTENCY_HEADER = { header: z.object({ "Idempotency-Key": IdempotencyKeySchema.optional() }) };

/** The runs console's API: an operator's personal API key; anyone else is answered 404. */
function runsOperation(operation: Omit<ZodOpenApiOperationObject, "security" | "tags">): ZodOpenApiOperationObject {
  return {
    tags: ["Runs"],
    ...operation,
    description: `${operation.description ? `${operation.description} ` : ""}Operators only: anyone else is answered 404.`,
    security: OWNER_SECURITY,
  };
}

const runPath = { path: RunParamsSchema };
const endpointPath = { path: EndpointParamsSchema };
const deliveryPath = { path: DeliveryParamsSchema };
const appPath = { path: OAuthAppParamsSchema };

export const API_PATHS: ZodOpenApiPathsObject = {
  "/api/v1/event-types": {
    get: endpointsOperation({
      operationId: "listEventTypes",
      tags: ["Events"],
      summary: "The event catalog",
      description:
        "Every event type an endpoint can subscribe to (Echo's own, operational and custom), with its payload's JSON Schema and an example.",
      requestParams: { query: EventTypeListQuerySchema },
      responses: { ...ok("The catalog.", ApiEventTypeListSchema), ...problems(400, 401, 403) },
    }),
    post: eventsOperation({
      operationId: "createEventType",
      summary: "Add a custom event type",
      description:
        "Operators only. `name` is lowercase words separated by dots (`order.created`), not in one of Echo's own namespaces; `schema` is a JSON Schema (draft 2020-12), checked strictly; `example` must match it.",
      requestBody: body(EventTypeCreateSchema),
      responses: { ...ok("Created.", ApiEventTypeSchema, "201"), ...problems(400, 401, OPERATOR_ONLY, 409, 415) },
    }),
  },
  "/api/v1/event-types/{eventType}": {
    get: endpointsOperation({
      operationId: "getEventType",
      tags: ["Events"],
      summary: "One event type",
      requestParams: { path: EventTypeParamsSchema },
      responses: { ...ok("The type.", ApiEventTypeSchema), ...problems(401, 403, 404) },
    }),
    patch: eventsOperation({
      operationId: "updateEventType",
      summary: "Change, archive or restore a custom event type",
      description:
        "Operators only. Archived, a type keeps its subscriptions and its events already published are delivered, but nothing more can be published (409).",
      requestParams: { path: EventTypeParamsSchema },
      requestBody: body(EventTypeUpdateSchema),
      responses: { ...ok("The type as saved.", ApiEventTypeSchema), ...problems(400, 401, OPERATOR_ONLY, 404, 415) },
    }),
  },
  "/api/v1/events": {
    post: eventsOperation({
      operationId: "publishEvent",
      summary: "Publish an event",
      description:
        "Checks the payload against the type's JSON Schema, records the event in Echo's outbox and hands it to the fan-out: every endpoint of the user subscribed to the type receives it, signed, retried and logged. The Idempotency-Key header (or `idempotencyKey`) makes a retry safe for 24 hours.",
      requestParams: IDEMPOTENCY_HEADER,
      requestBody: body(PublishEventSchema),
      responses: {
        "202": {
          description: "Recorded and handed to the fan-out (or, with a key seen before, the event it made).",
          headers: {
            "Idempotent-Replayed": {
              description: "`true` when this answer is an earlier publish's, for the same key and request.",
              schema: { type: "string" as const },
            },
          },
          content: json(ApiPublishedEventSchema),
        },
        ...problems(
          [400, "Invalid input, or a payload that does not match the type's schema: each failing path is in `errors`."],
          401,
          [403, "A built-in type (Echo raises those), or another user's `userId` without an operator's key."],
          [404, "No such event type (or user)."],
          [409, "The type is archived, or the idempotency key was used for a different event."],
          [413, "The payload is over 256 KB."],
          415,
        ),
      },
    }),
  },
  "/api/v1/events/batch": {
    post: eventsOperation({
      operationId: "publishEvents",
      summary: "Publish up to 100 events",
      description:
        "All or nothing: when any event is refused, none is published, the status is that of the first refused event, and `errors` names every failing field as `events.<index>.<field>`. Each event may carry its own `idempotencyKey`.",
      requestBody: body(PublishBatchSchema),
      responses: {
        ...ok("The events, in the order sent.", ApiPublishedBatchSchema, "202"),
        ...problems(400, 401, 403, 404, 409, 413, 415),
      },
    }),
  },
  "/api/v1/endpoints": {
    get: endpointsOperation({
      operationId: "listEndpoints",
      summary: "Your endpoints",
      description: "A personal API key sees all of the user's endpoints; an OAuth token those its app registered.",
      responses: { ...ok("The endpoints, oldest first.", ApiEndpointListSchema), ...problems(401, 403) },
    }),
    post: endpointsOperation({
      operationId: "createEndpoint",
      summary: "Create an endpoint",
      description:
        "At most 10 per user. The answer holds the signing secret, once; a `secret` may be supplied instead of generated.",
      requestBody: body(EndpointCreateSchema),
      responses: {
        "201": {
          description: "Created.",
          headers: NO_STORE_HEADER,
          content: json(ApiEndpointCreatedSchema),
        },
        ...problems(400, 401, 403, 409, 415),
      },
    }),
  },
  "/api/v1/endpoints/{endpointId}": {
    get: endpointsOperation({
      operationId: "getEndpoint",
      summary: "One endpoint",
      requestParams: endpointPath,
      responses: { ...ok("The endpoint.", ApiEndpointSchema), ...problems(401, 403, 404) },
    }),
    patch: endpointsOperation({
      operationId: "updateEndpoint",
      summary: "Change an endpoint",
      description:
        "Any subset of the fields. Saving also re-enables an endpoint that Echo disabled. `customHeaders` replaces the whole set; a value sent back as `[redacted]` keeps the stored one.",
      requestParams: endpointPath,
      requestBody: body(EndpointUpdateSchema),
      responses: { ...ok("The endpoint as saved.", ApiEndpointSchema), ...problems(400, 401, 403, 404, 415) },
    }),
    delete: endpointsOperation({
      operationId: "deleteEndpoint",
      summary: "Delete an endpoint and its delivery log",
      requestParams: endpointPath,
      responses: { "204": { description: "Deleted." }, ...problems(401, 403, 404) },
    }),
  },
  "/api/v1/endpoints/{endpointId}/rotate-secret": {
    post: endpointsOperation({
      operationId: "rotateEndpointSecret",
      summary: "Rotate the signing secret",
      description: "A new secret (generated, or the one supplied); the previous one keeps signing for 24 hours.",
      requestParams: endpointPath,
      requestBody: body(RotateSecretSchema, false),
      responses: {
        "200": { description: "The new secret.", headers: NO_STORE_HEADER, content: json(ApiRotatedSecretSchema) },
        ...problems(400, 401, 403, 404, 415),
      },
    }),
  },
  "/api/v1/endpoints/{endpointId}/secret": {
    get: endpointsOperation({
      operationId: "revealEndpointSecret",
      summary: "Reveal the signing secret",
      requestParams: endpointPath,
      responses: {
        "200": { description: "The current secret.", headers: NO_STORE_HEADER, content: json(ApiEndpointSecretSchema) },
        ...problems(401, 403, 404),
      },
    }),
  },
  "/api/v1/endpoints/{endpointId}/test": {
    post: endpointsOperation({
      operationId: "sendTestEvent",
      summary: "Send a test event",
      description:
        "Sends a signed `webhook.test` event now and answers with what the receiver said. A retryable failure stays queued.",
      requestParams: endpointPath,
      responses: { ...ok("The first attempt's outcome.", ApiTestSendSchema), ...problems(401, 403, 404, 503) },
    }),
  },
  "/api/v1/endpoints/{endpointId}/pause": {
    post: endpointsOperation({
      operationId: "pauseEndpoint",
      summary: "Pause an endpoint",
      description: "Deliveries are still created, and wait; nothing is sent until the endpoint is resumed.",
      requestParams: endpointPath,
      responses: { ...ok("The endpoint.", ApiEndpointSchema), ...problems(401, 403, 404) },
    }),
  },
  "/api/v1/endpoints/{endpointId}/resume": {
    post: endpointsOperation({
      operationId: "resumeEndpoint",
      summary: "Resume a paused endpoint",
      description: "Every delivery that waited is sent; retries keep their schedule.",
      requestParams: endpointPath,
      responses: { ...ok("The endpoint.", ApiEndpointSchema), ...problems(401, 403, 404, 503) },
    }),
  },
  "/api/v1/endpoints/{endpointId}/retry-failed": {
    post: endpointsOperation({
      operationId: "retryFailedDeliveries",
      summary: "Retry failed deliveries since a time",
      description:
        "After an outage: every failed delivery of the endpoint created since `since` gets one more attempt.",
      requestParams: endpointPath,
      requestBody: body(RetryFailedSchema),
      responses: {
        ...ok("How many deliveries were queued.", z.object({ queued: z.number().int() })),
        ...problems(400, 401, 403, 404, 415, 503),
      },
    }),
  },
  "/api/v1/endpoints/{endpointId}/stats": {
    get: endpointsOperation({
      operationId: "getEndpointStats",
      summary: "Delivery statistics",
      requestParams: { ...endpointPath, query: StatsQuerySchema },
      responses: {
        ...ok("Counts, success rate, latencies and a series.", EndpointStatsSchema),
        ...problems(400, 401, 403, 404),
      },
    }),
  },
  "/api/v1/deliveries": {
    get: endpointsOperation({
      operationId: "listDeliveries",
      tags: ["Deliveries"],
      summary: "The delivery log",
      description: "Newest first; filters combine. Follow `nextCursor` for the next page.",
      requestParams: { query: DeliveryListFiltersSchema },
      responses: { ...ok("A page of deliveries.", ApiDeliveryListSchema), ...problems(400, 401, 403) },
    }),
  },
  "/api/v1/deliveries/{deliveryId}": {
    get: endpointsOperation({
      operationId: "getDelivery",
      tags: ["Deliveries"],
      summary: "One delivery with every attempt",
      requestParams: deliveryPath,
      responses: { ...ok("The delivery.", ApiDeliveryDetailSchema), ...problems(401, 403, 404) },
    }),
  },
  "/api/v1/deliveries/{deliveryId}/retry": {
    post: endpointsOperation({
      operationId: "retryDelivery",
      tags: ["Deliveries"],
      summary: "Retry a failed delivery",
      description: "One more attempt, now. Only failed deliveries can be retried.",
      requestParams: deliveryPath,
      responses: { ...ok("Queued.", ApiDeliverySummarySchema, "202"), ...problems(401, 403, 404, 409, 503) },
    }),
  },
  "/api/v1/oauth-apps": {
    get: oauthAppsOperation({
      operationId: "listOAuthApps",
      summary: "Your OAuth apps",
      responses: { ...ok("The apps.", z.object({ data: z.array(ApiOAuthAppSchema) })), ...problems(401) },
    }),
    post: oauthAppsOperation({
      operationId: "createOAuthApp",
      summary: "Register an OAuth app",
      description: "The answer holds the client secret (confidential apps), once.",
      requestBody: body(OAuthAppCreateBodySchema),
      responses: {
        "201": {
          description: "Created.",
          headers: NO_STORE_HEADER,
          content: json(ApiOAuthAppSchema.extend({ clientSecret: z.string().nullable() })),
        },
        ...problems(400, 401, 415),
      },
    }),
  },
  "/api/v1/oauth-apps/{appId}": {
    get: oauthAppsOperation({
      operationId: "getOAuthApp",
      summary: "One OAuth app",
      requestParams: appPath,
      responses: { ...ok("The app.", ApiOAuthAppSchema), ...problems(401, 404) },
    }),
    patch: oauthAppsOperation({
      operationId: "updateOAuthApp",
      summary: "Change an OAuth app",
      requestParams: appPath,
      requestBody: body(OAuthAppPatchBodySchema),
      responses: { ...ok("The app as saved.", ApiOAuthAppSchema), ...problems(400, 401, 404, 415) },
    }),
    delete: oauthAppsOperation({
      operationId: "deleteOAuthApp",
      summary: "Delete an OAuth app",
      description: "Its grants end and its tokens are revoked.",
      requestParams: appPath,
      responses: { "204": { description: "Deleted." }, ...problems(401, 404) },
    }),
  },
  "/api/v1/oauth-apps/{appId}/rotate-secret": {
    post: oauthAppsOperation({
      operationId: "rotateOAuthAppClientSecret",
      summary: "A new client secret",
      description: "Returned once; the old one stops working.",
      requestParams: appPath,
      responses: {
        "200": {
          description: "The new client secret.",
          headers: NO_STORE_HEADER,
          content: json(z.object({ clientSecret: z.string() })),
        },
        ...problems(401, 404),
      },
    }),
  },
  "/api/v1/oauth-apps/{appId}/webhook": {
    get: oauthAppsOperation({
      operationId: "getOAuthAppWebhook",
      summary: "The app's webhook settings",
      requestParams: appPath,
      responses: { ...ok("The settings; never the secret.", ApiOAuthAppWebhookSchema), ...problems(401, 404) },
    }),
    put: oauthAppsOperation({
      operationId: "setOAuthAppWebhook",
      summary: "Set the app's webhook",
      requestParams: appPath,
      requestBody: body(OAuthAppWebhookPutBodySchema),
      responses: { ...ok("The app.", ApiOAuthAppSchema), ...problems(400, 401, 404, 415) },
    }),
    post: oauthAppsOperation({
      operationId: "manageOAuthAppWebhookSecret",
      summary: "Rotate, reveal or clear the webhook secret",
      description:
        "`rotate-secret` returns a new `whsec_` secret (the old one keeps signing for 24 hours); `reveal-secret` the current one; `clear-secret` answers 204.",
      requestParams: appPath,
      requestBody: body(OAuthAppWebhookSecretActionSchema),
      responses: {
        "200": {
          description: "The secret.",
          headers: NO_STORE_HEADER,
          content: json(z.object({ secret: z.string().nullable() })),
        },
        "204": { description: "Cleared." },
        ...problems(400, 401, 404, 415),
      },
    }),
  },
  "/api/v1/runs": {
    get: runsOperation({
      operationId: "listRuns",
      summary: "Task runs",
      description:
        "Every run of the embedded job engine, and every webhook delivery as a `webhook-delivery` run, newest first; filters combine. Follow `nextCursor` for the next page.",
      requestParams: { query: RunListFiltersSchema },
      responses: { ...ok("A page of runs.", ApiRunListSchema), ...problems(400, 401, 404) },
    }),
  },
  "/api/v1/runs/{runId}": {
    get: runsOperation({
      operationId: "getRun",
      summary: "One run with every attempt",
      description: "Its attempts (start, end, error, stack), lease, payload (secrets redacted), event and deliveries.",
      requestParams: runPath,
      responses: { ...ok("The run.", ApiRunSchema), ...problems(401, 404) },
    }),
  },
  "/api/v1/runs/{runId}/replay": {
    post: runsOperation({
      operationId: "replayRun",
      summary: "Replay a run",
      description:
        "A new run of the task with the same payload (the answer is the new run). A delivery's run is the delivery: it gets one more attempt, once it has finished.",
      requestParams: runPath,
      responses: {
        ...ok("The run that will run.", ApiRunSchema, "202"),
        ...problems(401, 404, 409, 503),
      },
    }),
  },
  "/api/v1/runs/{runId}/cancel": {
    post: runsOperation({
      operationId: "cancelRun",
      summary: "Cancel a queued or retrying run",
      description: "It is never attempted (again). A cancelled delivery fails, saying who cancelled it.",
      requestParams: runPath,
      responses: { ...ok("The cancelled run.", ApiRunSchema), ...problems(401, 404, 409) },
    }),
  },
  "/api/v1/openapi.json": {
    get: {
      operationId: "getOpenApiDocument",
      tags: ["Meta"],
      summary: "This document",
      security: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document.",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  },
};

let cached: { key: string; document: ReturnType<typeof createDocument> } | null = null;

/** The document; `catalog` becomes its `webhooks` (what an endpoint receives for each event type). */
export function buildOpenApiDocument(baseUrl: string, catalog: CatalogEntry[] = []) {
  const key = JSON.stringify([baseUrl, catalog.map((entry) => [entry.type, entry.updatedAt, entry.archived])]);
  if (cached?.key === key) return cached.document;
  const document = createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "Echo API",
        version: "1.0.0",
        description:
          "Publishing events, the event catalog, webhook endpoints, the delivery log and OAuth apps. Errors are `application/problem+json` (RFC 9457) naming the failing fields. Bodies are JSON; unknown fields are refused.",
      },
      servers: [{ url: baseUrl }],
      tags: [
        { name: "Events" },
        { name: "Endpoints" },
        { name: "Deliveries" },
        { name: "OAuth apps" },
        { name: "Runs", description: "The runs console's API, for operators." },
        { name: "Meta" },
      ],
      paths: API_PATHS,
      webhooks: eventWebhooks(catalog, baseUrl),
      components: {
        securitySchemes: {
          apiKey: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "echo_sk_…",
            description: "A personal API key from Settings → API keys: `Authorization: Bearer echo_sk_…`.",
          },
          oauth2: {
            type: "oauth2",
            description: `An OAuth access token with the \`${ENDPOINTS_OAUTH_SCOPE}\` scope acts for one user, on the endpoints its app registered for them.`,
            flows: {
              authorizationCode: {
                authorizationUrl: `${baseUrl}/oauth/authorize`,
                tokenUrl: `${baseUrl}/oauth/token`,
                refreshUrl: `${baseUrl}/oauth/token`,
                scopes: Object.fromEntries(
                  SUPPORTED_SCOPES.map((scope) => [scope, SCOPE_DESCRIPTIONS[scope] ?? scope]),
                ),
              },
            },
          },
        },
      },
    },
    { allowEmptySchema: { unknown: true } },
  );
  cached = { key, document };
  return document;
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: "Sign the user in (OpenID Connect).",
  profile: "The user's name.",
  email: "The user's email address.",
  integration: "Integration events, and the user's webhook endpoints and deliveries through this API.",
};
