import type { Database } from "~/db.server";
import { headerRowsForDisplay } from "~/lib/webhooks/endpoint-form";
import { endpointState } from "~/lib/webhooks/endpoint-state";
import { getEndpoint, type EndpointActor } from "~/models/webhook-endpoint.server";
import { openCustomHeaders } from "~/services/webhooks/custom-headers.server";
import { listDeliveries } from "~/services/webhooks/delivery-log.server";

const RECENT_DELIVERIES = 10;

/** One endpoint's page: its settings (never the secret; sensitive header values blanked) and latest deliveries. */
export async function presentWebhookEndpoint(db: Database, actor: EndpointActor, endpointId: string) {
  const endpoint = await getEndpoint(db, actor, endpointId);
  if (!endpoint) return null;
  const { deliveries } = await listDeliveries(actor, { endpointId: endpoint.id, limit: RECENT_DELIVERIES }, db);
  const now = Date.now();
  return {
    id: endpoint.id,
    name: endpoint.name,
    url: endpoint.url,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    state: endpointState(endpoint),
    disabledAt: endpoint.disabledAt,
    pausedAt: endpoint.pausedAt,
    headers: headerRowsForDisplay(openCustomHeaders(endpoint.customHeaders)),
    maxRetries: endpoint.maxRetries,
    retryBaseDelayMs: endpoint.retryBaseDelayMs,
    timeoutMs: endpoint.timeoutMs,
    rateLimitPerMinute: endpoint.rateLimitPerMinute,
    registeredBy: endpoint.oauthClient?.name ?? null,
    previousSecretExpiresAt:
      endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt.getTime() > now
        ? endpoint.previousSecretExpiresAt
        : null,
    recentDeliveries: deliveries.map((delivery) => ({
      id: delivery.id,
      eventType: delivery.eventType,
      status: delivery.status,
      attemptCount: delivery.attemptCount,
      maxAttempts: delivery.maxAttempts,
      lastStatusCode: delivery.lastStatusCode,
      lastError: delivery.lastError,
      nextAttemptAt: delivery.nextAttemptAt,
      createdAt: delivery.createdAt,
    })),
  };
}

export type WebhookEndpointView = NonNullable<Awaited<ReturnType<typeof presentWebhookEndpoint>>>;
