import type { Database } from "~/db.server";
import { deliveryAttemptsSelect, deliveryScope } from "~/services/webhooks/delivery-log.server";

/** One delivery with its payload and every attempt, for its owner only (null otherwise). */
export function presentWebhookDelivery(db: Database, { ownerId, deliveryId }: { ownerId: string; deliveryId: string }) {
  return db.webhookDelivery.findFirst({
    where: { AND: [{ id: deliveryId }, deliveryScope({ userId: ownerId })] },
    select: {
      id: true,
      eventId: true,
      eventType: true,
      status: true,
      url: true,
      body: true,
      attemptCount: true,
      maxAttempts: true,
      nextAttemptAt: true,
      lastError: true,
      createdAt: true,
      completedAt: true,
      oauthClient: { select: { name: true, clientId: true } },
      endpoint: { select: { id: true, name: true } },
      attempts: deliveryAttemptsSelect,
    },
  });
}
