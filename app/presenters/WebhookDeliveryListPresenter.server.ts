import { z } from "zod";
import type { Database } from "~/db.server";
import { DeliveryListFiltersSchema, listDeliveries } from "~/services/webhooks/delivery-log.server";
import { listEventCatalog } from "~/services/webhooks/event-types.server";

const filter = DeliveryListFiltersSchema.shape;

/** The log's query string; a value that is not one the filters know is ignored, as links may be old. */
export const DeliveryListQuerySchema = z.object({
  status: filter.status.catch(undefined),
  eventType: filter.eventType.catch(undefined),
  endpointId: filter.endpointId.catch(undefined),
  oauthAppId: filter.oauthAppId.catch(undefined),
  cursor: filter.cursor.catch(undefined),
});
export type DeliveryListQuery = z.infer<typeof DeliveryListQuerySchema>;

const PAGE_SIZE = 50;

/**
 * The deliveries of every OAuth app and endpoint the user owns, newest first, a page at a
 * time, with what the filters offer and the warnings about targets Echo disabled.
 */
export async function presentWebhookDeliveryList(db: Database, ownerId: string, query: DeliveryListQuery) {
  const [page, endpoints, apps, catalog] = await Promise.all([
    listDeliveries({ userId: ownerId }, { ...query, limit: PAGE_SIZE }, db),
    db.webhookEndpoint.findMany({
      where: { ownerId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, name: true, disabledAt: true, disabledReason: true },
    }),
    db.oAuthClient.findMany({
      where: { ownerId, deletedAt: null },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, name: true, webhookDisabledAt: true, webhookDisabledReason: true },
    }),
    listEventCatalog({ includeArchived: true }, db),
  ]);
  return {
    deliveries: page.deliveries.map((row) => ({
      id: row.id,
      eventType: row.eventType,
      status: row.status,
      attemptCount: row.attemptCount,
      maxAttempts: row.maxAttempts,
      lastStatusCode: row.lastStatusCode,
      lastError: row.lastError,
      nextAttemptAt: row.nextAttemptAt,
      createdAt: row.createdAt,
      target: {
        name: row.oauthClient?.name ?? row.endpoint?.name ?? "(deleted)",
        kind: row.endpointId ? ("endpoint" as const) : ("OAuth app" as const),
      },
    })),
    nextCursor: page.nextCursor,
    filterOptions: {
      eventTypes: catalog.map((entry) => entry.type),
      endpoints: endpoints.map(({ id, name }) => ({ id, name })),
      apps: apps.map(({ id, name }) => ({ id, name })),
    },
    disabled: [
      ...apps
        .filter((app) => app.webhookDisabledAt)
        .map((app) => ({ id: app.id, name: app.name, reason: app.webhookDisabledReason, kind: "app" as const })),
      ...endpoints
        .filter((endpoint) => endpoint.disabledAt)
        .map((endpoint) => ({
          id: endpoint.id,
          name: endpoint.name,
          reason: endpoint.disabledReason,
          kind: "endpoint" as const,
        })),
    ],
  };
}
