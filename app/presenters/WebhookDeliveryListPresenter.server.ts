import { z } from "zod";
import type { Database } from "~/db.server";
import { DELIVERY_STATUSES } from "~/lib/webhooks/delivery-status";

export const DeliveryListQuerySchema = z.object({
  status: z.enum(DELIVERY_STATUSES).optional().catch(undefined),
  cursor: z.string().max(100).optional().catch(undefined),
});

const PAGE_SIZE = 50;

/** The deliveries of every app and endpoint the user owns, newest first, a page at a time. */
export async function presentWebhookDeliveryList(
  db: Database,
  { ownerId, status, cursor }: { ownerId: string } & z.infer<typeof DeliveryListQuerySchema>,
) {
  const rows = await db.webhookDelivery.findMany({
    where: { OR: [{ oauthClient: { ownerId } }, { endpoint: { ownerId } }], ...(status ? { status } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: PAGE_SIZE + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    select: {
      id: true,
      eventType: true,
      status: true,
      attemptCount: true,
      maxAttempts: true,
      lastStatusCode: true,
      lastError: true,
      nextAttemptAt: true,
      createdAt: true,
      url: true,
      oauthClient: { select: { name: true } },
      endpoint: { select: { name: true } },
    },
  });
  const page = rows.slice(0, PAGE_SIZE);
  const disabledApps = await db.oAuthClient.findMany({
    where: { ownerId, deletedAt: null, webhookDisabledAt: { not: null } },
    select: { id: true, name: true, webhookDisabledAt: true, webhookDisabledReason: true },
  });
  return {
    deliveries: page.map((row) => ({ ...row, target: row.oauthClient?.name ?? row.endpoint?.name ?? "(deleted)" })),
    nextCursor: rows.length > PAGE_SIZE ? page[page.length - 1]?.id : undefined,
    disabledApps,
  };
}
