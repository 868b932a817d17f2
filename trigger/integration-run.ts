import { AbortTaskRunError, task } from "@trigger.dev/sdk";
import { z } from "zod";
import { connectIntegration, openSetupInput } from "~/services/integrations/run-integration.server";

/** `input` is sealSetupInput(...) of what the connect flow collected: no credential in clear in the payload. */
const PayloadSchema = z.object({
  userId: z.string().min(1),
  slug: z.string().min(1).max(64),
  input: z.string().min(1),
});

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
  run: async (payload: z.input<typeof PayloadSchema>) => {
    const parsed = PayloadSchema.safeParse(payload);
    if (!parsed.success) throw new AbortTaskRunError(`Malformed integration-run payload: ${parsed.error.message}`);
    const { userId, slug, input } = parsed.data;
    let setupInput;
    try {
      setupInput = openSetupInput(input);
    } catch {
      // Sealed with another key, or tampered with: retrying cannot help, and the reason must not echo the input.
      throw new AbortTaskRunError("The integration-run payload's sealed input could not be opened.");
    }
    const result = await connectIntegration({ userId, slug, input: setupInput });
    // A refused key or an unknown integration will not get better by retrying.
    if (!result.ok && result.status < 500) throw new AbortTaskRunError(result.error);
    if (!result.ok) throw new Error(result.error);
    return { integrationAccountId: result.integrationAccountId, reconnected: result.reconnected };
  },
});
