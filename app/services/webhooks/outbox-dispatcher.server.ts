import { prisma, type Database } from "~/db.server";
import { logger } from "~/logger.server";
import { triggerTasks, usesTriggerDev } from "~/services/jobs.server";
import type { oauthIntegrationWebhookDeliveryTask } from "../../../trigger/oauth-integration-webhook-delivery";
import type { webhookEventFanoutTask } from "../../../trigger/webhook-event-fanout";

/** Integration events fan out (to OAuth apps and endpoints) through the seed's task. */
export const INTEGRATION_FANOUT_TASK_ID = "oauth-integration-webhook-delivery";
/** Every other event type fans out to the endpoints subscribed to it. */
export const EVENT_FANOUT_TASK_ID = "webhook-event-fanout";

const DISPATCH_BATCH_SIZE = 500;

type PendingEvent = { id: string; type: string };

/**
 * Hands recorded WebhookEvents (the outbox) to the job engine and marks them handed over.
 * Embedded engine: the runs and the mark commit together. Trigger.dev: the runs are
 * triggered first, with an idempotency key per event, so a crash before the mark only
 * causes a trigger that Trigger.dev deduplicates. Returns how many events were handed over.
 */
export async function dispatchPendingEvents(filter: { source?: string } = {}, db: Database = prisma): Promise<number> {
  let total = 0;
  for (;;) {
    const handed = await db.$transaction(async (tx) => {
      const events = filter.source
        ? await tx.$queryRaw<PendingEvent[]>`
            SELECT id, type FROM "WebhookEvent"
            WHERE "dispatchedAt" IS NULL AND source = ${filter.source}
            ORDER BY "createdAt" LIMIT ${DISPATCH_BATCH_SIZE} FOR UPDATE SKIP LOCKED`
        : await tx.$queryRaw<PendingEvent[]>`
            SELECT id, type FROM "WebhookEvent" WHERE "dispatchedAt" IS NULL
            ORDER BY "createdAt" LIMIT ${DISPATCH_BATCH_SIZE} FOR UPDATE SKIP LOCKED`;
      if (events.length === 0) return 0;

      try {
        const options = { tx: usesTriggerDev ? undefined : tx };
        const toItem = (event: PendingEvent) => ({
          payload: { eventId: event.id },
          idempotencyKey: `${event.type}:${event.id}`,
        });
        await triggerTasks<typeof oauthIntegrationWebhookDeliveryTask>(
          INTEGRATION_FANOUT_TASK_ID,
          events.filter((event) => event.type.startsWith("integration.")).map(toItem),
          options,
        );
        await triggerTasks<typeof webhookEventFanoutTask>(
          EVENT_FANOUT_TASK_ID,
          events.filter((event) => !event.type.startsWith("integration.")).map(toItem),
          options,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await tx.webhookEvent.updateMany({
          where: { id: { in: events.map((event) => event.id) } },
          data: { dispatchAttempts: { increment: 1 }, lastDispatchError: message.slice(0, 2000) },
        });
        throw error;
      }
      await tx.webhookEvent.updateMany({
        where: { id: { in: events.map((event) => event.id) } },
        data: { dispatchedAt: new Date(), dispatchAttempts: { increment: 1 }, lastDispatchError: null },
      });
      return events.length;
    });
    total += handed;
    if (handed < DISPATCH_BATCH_SIZE) return total;
  }
}

/** The safety net: whatever the fast path did not hand over (engine down, crash) goes now. */
export function startOutboxSweeper({
  intervalMs,
  db = prisma,
}: {
  intervalMs: number;
  db?: Database;
}): () => Promise<void> {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const tick = async () => {
    if (stopped) return;
    current = dispatchPendingEvents({}, db)
      .then((count) => {
        if (count > 0) logger.info({ count }, "Outbox sweep handed events to the job engine");
      })
      .catch((error: unknown) => logger.error({ err: error }, "Outbox sweep failed; it will try again"));
    await current;
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  let timer = setTimeout(() => void tick(), 0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
