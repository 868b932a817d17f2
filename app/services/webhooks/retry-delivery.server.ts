import { prisma, type Database } from "~/db.server";
import { triggerTask } from "~/services/jobs.server";
import type { webhookDeliveryTask } from "../../../trigger/webhook-delivery";
import { deliveryScope } from "./delivery-log.server";
import { WEBHOOK_DELIVERY_TASK_ID } from "./integration-fanout.server";

export type RetryByHandResult = { ok: true } | { ok: false; status: 404 | 409; error: string };

/**
 * Sends a FAILED delivery once more, on the owner's request: one extra attempt, right now.
 * Only the owner of the app (or endpoint) the delivery belongs to may do it.
 */
export async function retryDeliveryByHand(
  { deliveryId, ownerId, oauthClientId }: { deliveryId: string; ownerId: string; oauthClientId?: string },
  db: Database = prisma,
): Promise<RetryByHandResult> {
  const delivery = await db.webhookDelivery.findFirst({
    where: { AND: [{ id: deliveryId }, deliveryScope({ userId: ownerId, oauthClientId })] },
    select: { id: true, status: true, attemptCount: true, oauthClientId: true, endpointId: true },
  });
  if (!delivery) return { ok: false, status: 404, error: "No such delivery." };
  if (delivery.status !== "FAILED") {
    return {
      ok: false,
      status: 409,
      error: `Only failed deliveries can be retried; this one is ${delivery.status.toLowerCase()}.`,
    };
  }
  const reopened = await db.webhookDelivery.updateMany({
    where: { id: delivery.id, status: "FAILED" },
    data: { status: "RETRYING", maxAttempts: delivery.attemptCount + 1, nextAttemptAt: new Date(), completedAt: null },
  });
  if (reopened.count === 0)
    return { ok: false, status: 409, error: "The delivery changed meanwhile; reload and try again." };
  await triggerTask<typeof webhookDeliveryTask>(WEBHOOK_DELIVERY_TASK_ID, {
    payload: { deliveryId: delivery.id },
    idempotencyKey: `delivery:${delivery.id}:manual:${delivery.attemptCount + 1}`,
    concurrencyKey: delivery.oauthClientId ?? delivery.endpointId ?? undefined,
  });
  return { ok: true };
}
