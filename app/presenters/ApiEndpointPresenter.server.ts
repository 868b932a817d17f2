import { z } from "zod";
import { isSensitiveHeaderName, REDACTED } from "~/lib/webhooks/headers";
import type { EndpointRecord } from "~/models/webhook-endpoint.server";
import { openCustomHeaders } from "~/services/webhooks/custom-headers.server";

const IsoDateTime = z.iso.datetime({ offset: true });

/** An endpoint as the JSON API shows it: never its secret, and custom header values only when they look harmless. */
export const ApiEndpointSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    eventTypes: z
      .array(z.string())
      .meta({ description: "The subscribed event types (see /event-types); empty means every event." }),
    enabled: z.boolean(),
    paused: z.boolean().meta({ description: "Paused endpoints keep receiving deliveries, which wait until resumed." }),
    pausedAt: IsoDateTime.nullable(),
    disabledAt: IsoDateTime.nullable(),
    disabledReason: z
      .string()
      .nullable()
      .meta({ description: "Why Echo disabled the endpoint (410 Gone, failing too long); saving it starts afresh." }),
    failingSince: IsoDateTime.nullable(),
    customHeaders: z.record(z.string(), z.string()).meta({
      description: `Headers added to every webhook; values of names that look like credentials read "${REDACTED}".`,
    }),
    maxRetries: z.number().int(),
    retryBaseDelayMs: z.number().int().nullable(),
    timeoutMs: z.number().int(),
    rateLimitPerMinute: z.number().int(),
    oauthAppId: z
      .string()
      .nullable()
      .meta({ description: "The OAuth app that registered the endpoint for this user, if an app did." }),
    previousSecretExpiresAt: IsoDateTime.nullable().meta({
      description: "While set, deliveries are signed with the previous secret too (after a rotation).",
    }),
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
  })
  .meta({ id: "Endpoint" });
export type ApiEndpoint = z.output<typeof ApiEndpointSchema>;

function presentCustomHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, isSensitiveHeaderName(name) ? REDACTED : value]),
  );
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function presentApiEndpoint(endpoint: EndpointRecord, now: Date = new Date()): ApiEndpoint {
  const graceActive = Boolean(
    endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now,
  );
  return {
    id: endpoint.id,
    name: endpoint.name,
    url: endpoint.url,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    paused: endpoint.pausedAt !== null,
    pausedAt: iso(endpoint.pausedAt),
    disabledAt: iso(endpoint.disabledAt),
    disabledReason: endpoint.disabledReason,
    failingSince: iso(endpoint.failingSince),
    customHeaders: presentCustomHeaders(openCustomHeaders(endpoint.customHeaders)),
    maxRetries: endpoint.maxRetries,
    retryBaseDelayMs: endpoint.retryBaseDelayMs,
    timeoutMs: endpoint.timeoutMs,
    rateLimitPerMinute: endpoint.rateLimitPerMinute,
    oauthAppId: endpoint.oauthClientId,
    previousSecretExpiresAt: graceActive ? iso(endpoint.previousSecretExpiresAt) : null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

export const ApiEndpointSecretSchema = z
  .object({ secret: z.string().meta({ description: "The `whsec_` signing secret." }) })
  .meta({ id: "EndpointSecret" });

export const ApiEndpointCreatedSchema = ApiEndpointSchema.extend({
  secret: z.string().meta({ description: "The `whsec_` signing secret, shown in this answer only." }),
}).meta({ id: "EndpointCreated" });

export const ApiRotatedSecretSchema = z
  .object({
    secret: z.string(),
    previousSecretExpiresAt: IsoDateTime.meta({
      description: "Until then (24 hours), deliveries carry signatures with both the new and the previous secret.",
    }),
  })
  .meta({ id: "RotatedSecret" });

export const ApiEndpointListSchema = z.object({ data: z.array(ApiEndpointSchema) });
