import type { Database } from "~/db.server";
import { endpointState } from "~/lib/webhooks/endpoint-state";
import { listEndpoints } from "~/models/webhook-endpoint.server";
import { MAX_ENDPOINTS_PER_USER } from "~/services/webhooks/endpoints.server";

/** The user's endpoints as the list shows them: never a secret or a header value. */
export async function presentWebhookEndpointList(db: Database, userId: string) {
  const endpoints = await listEndpoints(db, { userId });
  return {
    endpoints: endpoints.map((endpoint) => ({
      id: endpoint.id,
      name: endpoint.name,
      url: endpoint.url,
      eventTypes: endpoint.eventTypes,
      state: endpointState(endpoint),
      registeredBy: endpoint.oauthClient?.name ?? null,
    })),
    limit: MAX_ENDPOINTS_PER_USER,
    atLimit: endpoints.length >= MAX_ENDPOINTS_PER_USER,
  };
}
