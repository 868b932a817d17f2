import { z } from "zod";
import { publicEventId } from "~/lib/events/catalog";
import type { PublishedEvent } from "~/services/webhooks/publish.server";

/** A published event as POST /api/v1/events answers it. */
export const ApiPublishedEventSchema = z
  .object({
    id: z.string().meta({ description: "The event's id (`evt_…`): `event.id` in every delivery of it." }),
    eventType: z.string(),
    userId: z.string().meta({ description: "The user whose subscribed endpoints receive it." }),
    timestamp: z.iso.datetime({ offset: true }).meta({ description: "`event.timestamp` in every delivery." }),
    idempotencyKey: z.string().nullable(),
    replayed: z.boolean().meta({
      description:
        "True when the same Idempotency-Key and request were published within 24 hours: this is that event, and nothing new is delivered.",
    }),
  })
  .meta({ id: "PublishedEvent" });
export type ApiPublishedEvent = z.output<typeof ApiPublishedEventSchema>;

export const ApiPublishedBatchSchema = z.object({ data: z.array(ApiPublishedEventSchema) });

export function presentApiPublishedEvent(event: PublishedEvent): ApiPublishedEvent {
  return {
    id: publicEventId(event.eventId),
    eventType: event.eventType,
    userId: event.userId,
    timestamp: event.createdAt.toISOString(),
    idempotencyKey: event.idempotencyKey,
    replayed: event.replayed,
  };
}
