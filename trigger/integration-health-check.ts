import { AbortTaskRunError, task } from "@trigger.dev/sdk";
import { z } from "zod";
import { checkIntegrationHealth } from "~/services/integrations/check-integration-health.server";

const PayloadSchema = z.object({ integrationAccountId: z.string().min(1) });

/** Checks one connected account's credentials with its provider; see checkIntegrationHealth. */
export const integrationHealthCheckTask = task({
  id: "integration-health-check",
  queue: { name: "integration-health-check" },
  concurrency: { total: 5 },
  retry: { maxAttempts: 4, factor: 4, minTimeoutInMs: 60_000, maxTimeoutInMs: 3_600_000, randomize: true },
  maxDuration: 120,
  run: async (payload: z.input<typeof PayloadSchema>) => {
    const parsed = PayloadSchema.safeParse(payload);
    if (!parsed.success)
      throw new AbortTaskRunError(`Malformed integration-health-check payload: ${parsed.error.message}`);
    const result = await checkIntegrationHealth(parsed.data.integrationAccountId);
    // The provider could not be asked: try later rather than conclude anything.
    if (result.state === "unknown") throw new Error(result.reason);
    return result;
  },
});
