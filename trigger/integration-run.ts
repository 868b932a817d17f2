import { AbortTaskRunError, task } from "@trigger.dev/sdk";
import type { SetupInput } from "~/integrations/types";
import { connectIntegration } from "~/services/integrations/run-integration.server";

/**
 * Runs an integration module's SETUP for a user and turns its `account` message into an
 * account (handleAccountMessage). The web connect flow runs the same service in-process,
 * because the user waits for the outcome; this task is for connections started elsewhere.
 */
export const integrationRunTask = task({
  id: "integration-run",
  queue: { name: "integration-run" },
  concurrency: { total: 10 },
  retry: { maxAttempts: 3, factor: 2, minTimeoutInMs: 2_000, maxTimeoutInMs: 30_000, randomize: true },
  maxDuration: 120,
  run: async (payload: { userId: string; slug: string; input: SetupInput }) => {
    const result = await connectIntegration(payload);
    // A refused key or an unknown integration will not get better by retrying.
    if (!result.ok && result.status < 500) throw new AbortTaskRunError(result.error);
    if (!result.ok) throw new Error(result.error);
    return { integrationAccountId: result.integrationAccountId, reconnected: result.reconnected };
  },
});
