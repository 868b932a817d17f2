import { z } from "zod";
import { publicEventId } from "~/lib/events/catalog";
import type { TestSendResult } from "~/services/webhooks/test-event.server";

/** What a test send answers: the outcome of its first attempt and what the receiver said. */
export const ApiTestSendSchema = z
  .object({
    outcome: z.enum(["delivered", "skipped", "retry", "failed", "paused", "deferred"]).meta({
      description:
        "`delivered` (2xx), `retry` (a retryable failure; the delivery stays queued), `failed` (permanent), `paused` or `deferred` (no attempt made: the endpoint is paused, or over its per-minute limit).",
    }),
    deliveryId: z.string(),
    eventId: z.string().meta({ description: "The event's id as the receiver saw it (`evt_…`)." }),
    response: z
      .object({
        status: z.number().int().nullable().meta({ description: "Null when the receiver did not answer." }),
        body: z.string().nullable(),
        durationMs: z.number().int(),
        error: z.string().nullable(),
      })
      .nullable()
      .meta({ description: "Null when no attempt was made." }),
    nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: "TestSendResult" });

export function presentApiTestSend(result: TestSendResult): z.output<typeof ApiTestSendSchema> {
  return {
    outcome: result.outcome,
    deliveryId: result.deliveryId,
    eventId: publicEventId(result.eventId),
    response: result.attempt
      ? {
          status: result.attempt.responseStatus,
          body: result.attempt.responseBody,
          durationMs: result.attempt.durationMs,
          error: result.attempt.error,
        }
      : null,
    nextAttemptAt: result.attempt?.nextAttemptAt?.toISOString() ?? null,
  };
}
