import { prisma, type Database } from "~/db.server";
import { logger } from "~/logger.server";
import { sqlOn } from "~/services/database/sql.server";
import { usesTriggerDev } from "~/services/jobs.server";
import { runPeriodically } from "~/services/jobs/periodic.server";
import { triggerDeliveryRuns, WEBHOOK_DELIVERY_TASK_ID } from "./integration-fanout.server";

const SWEEP_BATCH_SIZE = 500;
/** A sweep waits this long on Trigger.dev per batch; an outage fails the sweep, and the next one tries again. */
const SWEEP_TRIGGER_TIMEOUT_MS = 10_000;

type StuckDelivery = {
  id: string;
  oauthClientId: string | null;
  endpointId: string | null;
  attemptCount: number;
  /** The due time as PostgreSQL prints it, for the cursor; `dueMs` is the same instant for the key. */
  due: string;
  dueMs: string;
};

/**
 * Open deliveries (PENDING, RETRYING) due more than `graceSeconds` ago, whose endpoint is not paused
 * (OAuth apps have no pause), after the cursor, in due order. Embedded engine: only those with no live
 * run (QUEUED or EXECUTING) of webhook-delivery; those runs are reached through TaskRun's
 * (status, taskId, …) indexes, however many finished runs the table holds. WebhookDelivery itself is
 * scanned: it has no index on status on purpose (its updates stay HOT, tests/integration/hot-updates.test.ts).
 */
function stuckDeliveriesSql(checkLiveRuns: boolean): string {
  return `
    SELECT d.id, d."oauthClientId", d."endpointId", d."attemptCount",
           COALESCE(d."nextAttemptAt", d."createdAt")::text AS due,
           (extract(epoch FROM COALESCE(d."nextAttemptAt", d."createdAt")) * 1000)::bigint::text AS "dueMs"
    FROM "WebhookDelivery" d
    LEFT JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
    WHERE d.status IN ('PENDING', 'RETRYING')
      AND COALESCE(d."nextAttemptAt", d."createdAt") < now() - make_interval(secs => $1::float8)
      AND e."pausedAt" IS NULL
      AND ($2::timestamp IS NULL OR (COALESCE(d."nextAttemptAt", d."createdAt"), d.id) > ($2::timestamp, $3::text))
      ${
        checkLiveRuns
          ? `AND NOT EXISTS (
        SELECT 1 FROM "TaskRun" r
        WHERE r.status IN ('QUEUED', 'EXECUTING') AND r."taskId" = $5 AND r.payload->>'deliveryId' = d.id
      )`
          : ""
      }
    ORDER BY COALESCE(d."nextAttemptAt", d."createdAt"), d.id
    LIMIT $4`;
}

/** The run a sweep triggers for one overdue state of a delivery: sweeping the same state again is a no-op. */
export function sweepKey(delivery: { id: string; attemptCount: number; dueMs: string | number }): string {
  return `delivery:${delivery.id}:sweep:${delivery.attemptCount}:${delivery.dueMs}`;
}

/**
 * The safety net for every path that opens a delivery and triggers its run in a separate step
 * (retry by hand, retry-failed, resume, the rate-limit deferral, a test send's retry): if that
 * trigger failed (Trigger.dev down, the process killed in between), the delivery is open with no
 * run. This triggers one, for each open delivery overdue by more than `graceSeconds`.
 * Embedded engine: exactly the deliveries with no live run. Trigger.dev: runs cannot be listed, so
 * a run still waiting in its queue after the grace period gets one duplicate per overdue state,
 * which is harmless (an attempt claims the row, and finished deliveries are skipped).
 * Returns how many runs were triggered (for Trigger.dev, asked for: some may be duplicates it drops).
 */
export async function sweepStuckDeliveries(
  {
    graceSeconds,
    batchSize = SWEEP_BATCH_SIZE,
    triggerTimeoutMs = SWEEP_TRIGGER_TIMEOUT_MS,
  }: { graceSeconds: number; batchSize?: number; triggerTimeoutMs?: number },
  db: Database = prisma,
): Promise<number> {
  const text = stuckDeliveriesSql(!usesTriggerDev);
  let total = 0;
  let cursor: { due: string; id: string } | null = null;
  for (;;) {
    const params: unknown[] = [graceSeconds, cursor?.due ?? null, cursor?.id ?? null, batchSize];
    if (!usesTriggerDev) params.push(WEBHOOK_DELIVERY_TASK_ID);
    const { rows } = await sqlOn<StuckDelivery>(db, text, params);
    if (rows.length === 0) return total;
    const byId = new Map(rows.map((row) => [row.id, row]));
    await triggerDeliveryRuns(rows, (id) => sweepKey(byId.get(id)!), { timeoutMs: triggerTimeoutMs });
    total += rows.length;
    const last = rows[rows.length - 1]!;
    cursor = { due: last.due, id: last.id };
    if (rows.length < batchSize) return total;
  }
}

/** Runs sweepStuckDeliveries every `intervalMs` (the first one interval after start) until stopped. */
export function startStuckDeliverySweeper({
  intervalMs,
  graceSeconds,
  db = prisma,
}: {
  intervalMs: number;
  graceSeconds: number;
  db?: Database;
}): () => Promise<void> {
  return runPeriodically({
    name: "Delivery sweep",
    intervalMs,
    work: async () => {
      const count = await sweepStuckDeliveries({ graceSeconds }, db);
      // Something failed earlier (a trigger lost to an outage or a crash): worth a look, not an alarm.
      if (count > 0) logger.warn({ count, graceSeconds }, "Delivery sweep re-queued open deliveries that had no run");
    },
  });
}
