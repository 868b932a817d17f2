import type { ZodOpenApiPathsObject } from "zod-openapi";
import type { CatalogEntry } from "~/services/webhooks/event-types.server";

/**
 * The OpenAPI 3.1 `webhooks` of the event catalog: for each type, the request an endpoint
 * receives (the envelope, with the type's payload schema), so a receiver's developer can generate
 * types or validate deliveries from the same document as the API.
 */
export function eventWebhooks(catalog: CatalogEntry[], baseUrl: string): ZodOpenApiPathsObject {
  return Object.fromEntries(
    catalog.map((entry) => [
      entry.type,
      {
        post: {
          operationId: `receive_${entry.type.replace(/[^a-zA-Z0-9]/g, "_")}`,
          tags: ["Events"],
          summary: `${entry.type}${entry.archived ? " (archived)" : ""}`,
          description: `${entry.description} (${entry.kind === "custom" ? "Published with POST /api/v1/events." : entry.kind === "operational" ? "Operational: sent only to endpoints that subscribe to it by name." : "Raised by Echo."}) Signed and retried as described in docs/WEBHOOKS.md.`,
          requestBody: {
            required: true,
            content: { "application/json": { schema: envelopeSchema(entry, baseUrl) as { type: "object" } } },
          },
          responses: {
            "2XX": { description: "Any 2xx acknowledges the delivery; anything else is retried or fails it." },
          },
        },
      },
    ]),
  );
}

/** A plain JSON Schema (2020-12, as OpenAPI 3.1 reads it), typed loosely: the payload's is the catalog's own. */
type JsonSchema = Record<string, unknown>;

function envelopeSchema(entry: CatalogEntry, baseUrl: string): JsonSchema {
  // A custom schema is embedded as its own resource, so that its internal `$ref`s resolve inside it.
  const payload =
    entry.kind === "custom"
      ? { ...entry.schema, $id: `${baseUrl}/api/v1/event-types/${encodeURIComponent(entry.type)}` }
      : entry.schema;
  return {
    type: "object",
    required: ["event", "webhook"],
    properties: {
      event: {
        type: "object",
        required: ["id", "type", "timestamp", "userId", "source", "payload"],
        properties: {
          id: { type: "string", description: "`evt_…`: the same for every receiver and retry." },
          type: { const: entry.type },
          timestamp: { type: "string", format: "date-time" },
          userId: { type: ["string", "null"] },
          source: { type: "string" },
          payload,
        },
      },
      webhook: {
        type: "object",
        required: ["id", "name"],
        properties: { id: { type: "string" }, name: { type: "string" } },
      },
    },
    example: {
      event: {
        id: "evt_cmf1x2y3z0000evnt0000001",
        type: entry.type,
        timestamp: "2026-01-15T09:30:00.000Z",
        userId: "cmf1x2y3z0000user00000001",
        source: "api:cmf1x2y3z0000user00000001",
        payload: entry.example,
      },
      webhook: { id: "cmf1x2y3z0000endp0000001", name: "Orders service" },
    },
  };
}
