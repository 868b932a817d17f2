import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import { EventTypeNameSchema } from "~/lib/events/catalog";
import { DELIVERY_STATUSES } from "~/lib/webhooks/delivery-status";
import type { EndpointActor } from "~/models/webhook-endpoint.server";
import { ServiceError } from "~/services/service-error.server";

/** Deliveries the actor may see: a user's endpoints and OAuth apps; an app only its own endpoints for that user. */
export function deliveryScope(actor: EndpointActor): Prisma.WebhookDeliveryWhereInput {
  if (actor.oauthClientId) return { endpoint: { ownerId: actor.userId, oauthClientId: actor.oauthClientId } };
  return { OR: [{ endpoint: { ownerId: actor.userId } }, { oauthClient: { ownerId: actor.userId } }] };
}

const IsoDateTime = z.iso.datetime({ offset: true, message: "Use an ISO 8601 date-time, e.g. 2026-01-15T09:30:00Z" });

export const DeliveryListFiltersSchema = z
  .object({
    status: z.enum(DELIVERY_STATUSES, { message: `status is one of ${DELIVERY_STATUSES.join(", ")}` }).optional(),
    eventType: EventTypeNameSchema.optional(),
    endpointId: z.string().min(1).max(64).optional(),
    oauthAppId: z.string().min(1).max(64).optional(),
    since: IsoDateTime.optional(),
    until: IsoDateTime.optional(),
    limit: z.coerce.number().int().min(1, "limit is at least 1").max(100, "limit is at most 100").default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type DeliveryListFilters = z.output<typeof DeliveryListFiltersSchema>;

/** An opaque cursor: the (createdAt, id) of the last row of the previous page. */
function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(iso ?? "");
  if (!id || Number.isNaN(createdAt.getTime())) {
    throw new ServiceError(
      "The cursor is not one Echo returned; use nextCursor from the previous page.",
      400,
      "cursor",
    );
  }
  return { createdAt, id };
}

export const deliverySummarySelect = {
  id: true,
  eventId: true,
  eventType: true,
  status: true,
  url: true,
  attemptCount: true,
  maxAttempts: true,
  lastStatusCode: true,
  lastError: true,
  nextAttemptAt: true,
  createdAt: true,
  completedAt: true,
  endpointId: true,
  oauthClientId: true,
  endpoint: { select: { name: true } },
  oauthClient: { select: { name: true } },
} as const satisfies Prisma.WebhookDeliverySelect;

export type DeliverySummary = Prisma.WebhookDeliveryGetPayload<{ select: typeof deliverySummarySelect }>;

/** Newest first, a page at a time; filters combine. */
export async function listDeliveries(
  actor: EndpointActor,
  filters: DeliveryListFilters,
  db: Database = prisma,
): Promise<{ deliveries: DeliverySummary[]; nextCursor: string | null }> {
  const since = filters.since ? new Date(filters.since) : undefined;
  const until = filters.until ? new Date(filters.until) : undefined;
  if (since && until && since > until) throw new ServiceError("`since` is after `until`.", 400, "since");
  const after = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const where: Prisma.WebhookDeliveryWhereInput = {
    AND: [
      deliveryScope(actor),
      filters.status ? { status: filters.status } : {},
      filters.eventType ? { eventType: filters.eventType } : {},
      filters.endpointId ? { endpointId: filters.endpointId } : {},
      filters.oauthAppId ? { oauthClientId: filters.oauthAppId } : {},
      since || until ? { createdAt: { ...(since ? { gte: since } : {}), ...(until ? { lte: until } : {}) } } : {},
      after
        ? {
            OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
          }
        : {},
    ],
  };
  const rows = await db.webhookDelivery.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: filters.limit + 1,
    select: deliverySummarySelect,
  });
  const page = rows.slice(0, filters.limit);
  const last = page[page.length - 1];
  return { deliveries: page, nextCursor: rows.length > filters.limit && last ? encodeCursor(last) : null };
}

/** Every attempt of a delivery, in order, as its page and the API show them. */
export const deliveryAttemptsSelect = {
  orderBy: { attemptNumber: "asc" },
  select: {
    attemptNumber: true,
    startedAt: true,
    durationMs: true,
    requestUrl: true,
    requestHeaders: true,
    responseStatus: true,
    responseHeaders: true,
    responseBody: true,
    error: true,
    nextAttemptAt: true,
  },
} as const satisfies Prisma.WebhookDelivery$attemptsArgs;

/** One delivery with its request body and every attempt; null when the actor may not see it. */
export function getDelivery(actor: EndpointActor, deliveryId: string, db: Database = prisma) {
  return db.webhookDelivery.findFirst({
    where: { AND: [{ id: deliveryId }, deliveryScope(actor)] },
    select: {
      ...deliverySummarySelect,
      body: true,
      attempts: deliveryAttemptsSelect,
    },
  });
}
