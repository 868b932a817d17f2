import type { Prisma } from "~/generated/prisma/client";
import { parseEventPayload, type EventPayload, type EventType } from "~/lib/events/catalog";
import { logger } from "~/logger.server";
import { dispatchPendingEvents } from "./outbox-dispatcher.server";

type Tx = Prisma.TransactionClient;

/** Receivers should never have to accept more; Svix and Stripe draw the line in the same place. */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

export class EventTooLargeError extends Error {
  readonly status = 413;
  constructor(bytes: number) {
    super(`The event body is ${bytes} bytes; Echo sends at most ${MAX_EVENT_BODY_BYTES} bytes (256 KB).`);
    this.name = "EventTooLargeError";
  }
}

export function assertEventBodySize(payload: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > MAX_EVENT_BODY_BYTES) throw new EventTooLargeError(bytes);
}

/** The payload as it is stored: valid for its type's schema and within the size limit. */
export function checkedEventPayload<T extends EventType>(type: T, payload: EventPayload<T>): EventPayload<T> {
  const parsed = parseEventPayload(type, payload);
  assertEventBodySize(parsed);
  return parsed;
}

/**
 * Writes one outbox row. Call it inside the transaction that makes the change the event
 * announces: if that commits, the event exists and will be delivered, whatever happens next.
 * The payload must match the catalog's schema for its type.
 */
export async function recordEvent<T extends EventType>(
  tx: Tx,
  input: { type: T; userId: string | null; source: string; payload: EventPayload<T>; occurredAt?: Date },
): Promise<{ eventId: string }> {
  const payload = checkedEventPayload(input.type, input.payload);
  const event = await tx.webhookEvent.create({
    data: {
      type: input.type,
      userId: input.userId,
      source: input.source,
      payload: payload as Prisma.InputJsonValue,
      createdAt: input.occurredAt ?? new Date(),
    },
    select: { id: true },
  });
  return { eventId: event.id };
}

/**
 * After the commit: hands the source's recorded events to the job engine right away. Never
 * throws into the caller's flow; if handing over fails, the outbox sweep retries.
 */
export async function dispatchEventsOf(source: string, context: Record<string, unknown> = {}): Promise<void> {
  try {
    await dispatchPendingEvents({ source });
  } catch (error) {
    logger.error(
      { err: error, source, ...context },
      "Handing events to the job engine failed; the outbox sweep will retry",
    );
  }
}
