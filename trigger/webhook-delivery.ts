import { AbortTaskRunError, task } from "@trigger.dev/sdk";
import { attemptWebhookDelivery, markDeliveryAbandoned } from "~/services/webhooks/deliver-webhook.server";

/** Thrown for a retryable outcome; carries the delivery's own schedule (incl. Retry-After) to the engine. */
class RetryDeliveryError extends Error {
  constructor(readonly retryAt: Date) {
    super(`Delivery will be retried at ${retryAt.toISOString()}`);
    this.name = "RetryDeliveryError";
  }
}

/**
 * One attempt of one WebhookDelivery per run attempt. The delivery row decides the
 * schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with jitter, or the
 * endpoint's own); `retry.maxAttempts` is only a ceiling above every delivery's.
 */
export const webhookDeliveryTask = task({
  id: "webhook-delivery",
  queue: { name: "webhook-delivery" },
  // Runs are triggered with the target as concurrencyKey: a receiver that hangs holds at most
  // a quarter of the slots, and every other target's deliveries keep flowing. A delivery mostly
  // waits (on the receiver and on batched writes), so 400 in flight keep two cores busy where
  // 100 left a third of the time idle (docs/PERFORMANCE.md).
  concurrency: { total: 400, perKey: 100 },
  retry: { maxAttempts: 20, factor: 2, minTimeoutInMs: 1_000, maxTimeoutInMs: 60_000, randomize: true },
  maxDuration: 330,
  run: async (payload: { deliveryId: string }) => {
    const result = await attemptWebhookDelivery(payload.deliveryId);
    if (result.outcome === "retry") throw new RetryDeliveryError(result.retryAt);
    if (result.outcome === "failed") throw new AbortTaskRunError(result.reason);
    return result;
  },
  catchError: async ({ error }) => {
    if (error instanceof RetryDeliveryError) return { retryAt: error.retryAt };
    // Anything else (database down, a bug) retries on the task's own backoff.
    return undefined;
  },
  onFailure: async ({ payload, error }) => {
    // Only reached when the engine gives up (e.g. repeated crashes): never leave the row hanging.
    await markDeliveryAbandoned((payload as { deliveryId: string }).deliveryId, error);
  },
});
