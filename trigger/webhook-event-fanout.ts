import { AbortTaskRunError, task } from "@trigger.dev/sdk";
import { EventNotFoundError, fanOutEvent } from "~/services/webhooks/integration-fanout.server";

/**
 * Any event of the catalog other than integration.* (those go through
 * oauth-integration-webhook-delivery) → one delivery per endpoint subscribed to it.
 */
export const webhookEventFanoutTask = task({
  id: "webhook-event-fanout",
  queue: { name: "webhook-event-fanout" },
  // A fan-out is a few short statements. On the embedded engine the runs in flight share them
  // (group commit), so this also bounds a batch: at 20, a burst of events waited 3.4 s (p50)
  // to be fanned out while deliveries kept up (docs/PERFORMANCE.md).
  concurrency: { total: 100 },
  retry: { maxAttempts: 10, factor: 2, minTimeoutInMs: 1_000, maxTimeoutInMs: 60_000, randomize: true },
  maxDuration: 300,
  run: async (payload: { eventId: string }) => {
    try {
      return await fanOutEvent(payload.eventId);
    } catch (error) {
      if (error instanceof EventNotFoundError) throw new AbortTaskRunError(error.message);
      throw error;
    }
  },
});
