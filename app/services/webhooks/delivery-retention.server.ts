import { prisma, type Database } from "~/db.server";
import { logger } from "~/logger.server";
import { sqlOn } from "~/services/database/sql.server";
import { runPeriodically } from "~/services/jobs/periodic.server";

const DELETE_BATCH_SIZE = 2_000;

export type DeletedHistory = { deliveries: number; events: number };

/**
 * Deletes the delivery log past its retention: finished deliveries (SUCCESS or FAILED) that
 * finished more than `retentionDays` ago, with their attempts (ON DELETE CASCADE), then events
 * older than that which were handed to the fan-out and have no delivery left. An open delivery
 * (completedAt NULL: queued, retrying, sending, held) is never touched, however old, and neither
 * is its event; nor is an event the outbox has not dispatched yet. Batches keep each statement's
 * locks and WAL small so deliveries in flight are not held up behind a long delete.
 */
export async function deleteExpiredDeliveryHistory(
  { retentionDays, batchSize = DELETE_BATCH_SIZE }: { retentionDays: number; batchSize?: number },
  db: Database = prisma,
): Promise<DeletedHistory> {
  const deleted: DeletedHistory = { deliveries: 0, events: 0 };
  for (;;) {
    const { rowCount } = await sqlOn(
      db,
      `WITH doomed AS (
         SELECT id FROM "WebhookDelivery"
         -- A delivery finishes after it was created: the createdAt bound changes nothing but
         -- lets the scan use the BRIN index on createdAt instead of reading the whole table.
         WHERE "createdAt" < now() - make_interval(days => $1::int)
           AND "completedAt" < now() - make_interval(days => $1::int)
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       DELETE FROM "WebhookDelivery" AS delivery USING doomed WHERE delivery.id = doomed.id`,
      [retentionDays, batchSize],
    );
    deleted.deliveries += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }
  for (;;) {
    const { rowCount } = await sqlOn(
      db,
      `WITH doomed AS (
         SELECT e.id FROM "WebhookEvent" e
         WHERE e."createdAt" < now() - make_interval(days => $1::int)
           AND e."dispatchedAt" IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM "WebhookDelivery" d WHERE d."eventId" = e.id)
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       DELETE FROM "WebhookEvent" AS event USING doomed WHERE event.id = doomed.id`,
      [retentionDays, batchSize],
    );
    deleted.events += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }
  return deleted;
}

/** Runs deleteExpiredDeliveryHistory every `intervalMs` (the first time one interval after start). */
export function startDeliveryRetention({
  retentionDays,
  intervalMs,
  db = prisma,
}: {
  retentionDays: number;
  intervalMs: number;
  db?: Database;
}): () => Promise<void> {
  return runPeriodically({
    name: "Deleting delivery history past its retention",
    intervalMs,
    work: async () => {
      const deleted = await deleteExpiredDeliveryHistory({ retentionDays }, db);
      if (deleted.deliveries > 0 || deleted.events > 0)
        logger.info({ ...deleted, retentionDays }, "Deleted deliveries, attempts and events past their retention");
    },
  });
}
