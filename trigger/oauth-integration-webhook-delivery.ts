import { AbortTaskRunError, task } from "@trigger.dev/sdk";
import { EventNotFoundError, fanOutIntegrationEvent } from "~/services/webhooks/integration-fanout.server";

/**
 * integration.connected / integration.disconnected → one delivery per OAuth app that holds
 * the `integration` scope, an active grant for the user and a webhookUrl.
 */
export const oauthIntegrationWebhookDeliveryTask = task({
  id: "oauth-integration-webhook-delivery",
  queue: { name: "oauth-integration-webhook-delivery" },
  // A fan-out is a few short statements. On the embedded engine the runs in flight share them
  // (group commit), so this also bounds a batch: at 20, a burst of events waited 3.4 s (p50)
  // to be fanned out while deliveries kept up (docs/PERFORMANCE.md).
  concurrency: { total: 100 },
  retry: { maxAttempts: 10, factor: 2, minTimeoutInMs: 1_000, maxTimeoutInMs: 60_000, randomize: true },
  maxDuration: 300,
  run: async (payload: { eventId: string }) => {
    try {
      return await fanOutIntegrationEvent(payload.eventId);
    } catch (error) {
      if (error instanceof EventNotFoundError) throw new AbortTaskRunError(error.message);
      throw error;
    }
  },
});
