import { prisma, type Database } from "~/db.server";
import { ServiceError } from "~/services/service-error.server";
import { deliveryScope } from "./delivery-log.server";
import { triggerDeliveryRunsFromRequest } from "./integration-fanout.server";

export type RetryByHandResult = { ok: true } | { ok: false; status: 404 | 409 | 503; error: string };

/** What a retry by hand answers when Trigger.dev does not take the run: the retry stands, the sweeper sends it. */
export const RETRY_RECORDED_MESSAGE =
  "The retry is recorded, but the job queue is not answering right now; the delivery will be sent once it answers, with no need to retry again.";

/** The reopening's own key: a run created late for an earlier reopening (which found nothing to send) must not stand in for this one. */
export function manualRetryKey(deliveryId: string, attempt: number, reopenedAt: Date): string {
  return `delivery:${deliveryId}:manual:${attempt}:${reopenedAt.getTime()}`;
}

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
  const reopenedAt = new Date();
  const reopened = await db.webhookDelivery.updateMany({
    where: { id: delivery.id, status: "FAILED" },
    data: { status: "RETRYING", maxAttempts: delivery.attemptCount + 1, nextAttemptAt: reopenedAt, completedAt: null },
  });
  if (reopened.count === 0)
    return { ok: false, status: 409, error: "The delivery changed meanwhile; reload and try again." };
  try {
    await triggerDeliveryRunsFromRequest(
      [delivery],
      (id) => manualRetryKey(id, delivery.attemptCount + 1, reopenedAt),
      RETRY_RECORDED_MESSAGE,
    );
  } catch (error) {
    if (error instanceof ServiceError && error.status === 503) return { ok: false, status: 503, error: error.message };
    throw error;
  }
  return { ok: true };
}
