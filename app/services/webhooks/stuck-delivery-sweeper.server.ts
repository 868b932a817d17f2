import { prisma, type Database } from "~/db.server";
import { logger } from "~/logger.server";
import { sqlOn } from "~/services/database/sql.server";
import { usesTriggerDev } from "~/services/jobs.server";
import { runPeriodically } from "~/services/jobs/periodic.server";
import { TASK_RUN_CHANNEL } from "~/services/jobs/task-runs.server";
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
 * Trigger.dev: open deliveries (PENDING, RETRYING) due more than `graceSeconds` ago, whose endpoint is not
 * paused (OAuth apps have no pause), after the cursor, in due order. Read through the open-delivery index
 * (`completedAt IS NULL`), so a sweep costs what is open, not what the table ever held.
 */
const STUCK_DELIVERIES_SQL = `
    SELECT d.id, d."oauthClientId", d."endpointId", d."attemptCount",
           COALESCE(d."nextAttemptAt", d."createdAt")::text AS due,
           (extract(epoch FROM COALESCE(d."nextAttemptAt", d."createdAt")) * 1000)::bigint::text AS "dueMs"
    FROM "WebhookDelivery" d
    LEFT JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
    WHERE d."completedAt" IS NULL AND d.status IN ('PENDING', 'RETRYING')
      AND COALESCE(d."nextAttemptAt", d."createdAt") < now() - make_interval(secs => $1::float8)
      AND e."pausedAt" IS NULL
      AND ($2::timestamp IS NULL OR (COALESCE(d."nextAttemptAt", d."createdAt"), d.id) > ($2::timestamp, $3::text))
    ORDER BY COALESCE(d."nextAttemptAt", d."createdAt"), d.id
    LIMIT $4`;

/**
 * Embedded engine: a due open delivery is in the queue by definition (its row is the queue entry), so
 * nothing can lose its run. What can stay behind is a delivery held back (nextAttemptAt NULL) for a reason
 * that no longer holds: a test send whose request died before its attempt, or a resume cut short. Each one
 * held for more than `graceSeconds` whose endpoint is not paused falls due now, and the queue is woken.
 * (A held delivery's `updatedAt` is when it was held: holding is the last change made to it.)
 */
const RELEASE_HELD_DELIVERIES_SQL = `
    WITH held AS (
      SELECT d.id FROM "WebhookDelivery" d
      LEFT JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
      WHERE d."completedAt" IS NULL AND d."nextAttemptAt" IS NULL AND d.status IN ('PENDING', 'RETRYING')
        AND d."updatedAt" < now() - make_interval(secs => $1::float8)
        AND e."pausedAt" IS NULL
      ORDER BY d.id
      LIMIT $2
      FOR UPDATE OF d SKIP LOCKED
    ), released AS (
      UPDATE "WebhookDelivery" d SET "nextAttemptAt" = now(), "updatedAt" = now()
      FROM held WHERE d.id = held.id
      RETURNING d.id
    )
    SELECT count(*)::int AS released FROM released`;

/** The run a sweep triggers for one overdue state of a delivery: sweeping the same state again is a no-op. */
export function sweepKey(delivery: { id: string; attemptCount: number; dueMs: string | number }): string {
  return `delivery:${delivery.id}:sweep:${delivery.attemptCount}:${delivery.dueMs}`;
}

/**
 * The safety net for every path that opens a delivery and triggers its run in a separate step
 * (retry by hand, retry-failed, resume, the rate-limit deferral, a test send's retry): if that
 * trigger failed (Trigger.dev down, the process killed in between), the delivery is open with no
 * run. On Trigger.dev this triggers one, for each open delivery overdue by more than `graceSeconds`:
 * runs cannot be listed, so a run still waiting in its queue after the grace period gets one
 * duplicate per overdue state, which is harmless (an attempt claims the row, and finished
 * deliveries are skipped). On the embedded engine it releases the deliveries held back for longer
 * than that for a reason that no longer holds (RELEASE_HELD_DELIVERIES_SQL).
 * Returns how many runs were triggered (for Trigger.dev, asked for: some may be duplicates it
 * drops), or how many held deliveries were released.
 */
export async function sweepStuckDeliveries(
  {
    graceSeconds,
    batchSize = SWEEP_BATCH_SIZE,
    triggerTimeoutMs = SWEEP_TRIGGER_TIMEOUT_MS,
  }: { graceSeconds: number; batchSize?: number; triggerTimeoutMs?: number },
  db: Database = prisma,
): Promise<number> {
  if (!usesTriggerDev) return releaseHeldDeliveries({ graceSeconds, batchSize }, db);
  let total = 0;
  let cursor: { due: string; id: string } | null = null;
  for (;;) {
    const params: unknown[] = [graceSeconds, cursor?.due ?? null, cursor?.id ?? null, batchSize];
    const { rows } = await sqlOn<StuckDelivery>(db, STUCK_DELIVERIES_SQL, params);
    if (rows.length === 0) return total;
    const byId = new Map(rows.map((row) => [row.id, row]));
    await triggerDeliveryRuns(rows, (id) => sweepKey(byId.get(id)!), { timeoutMs: triggerTimeoutMs });
    total += rows.length;
    const last = rows[rows.length - 1]!;
    cursor = { due: last.due, id: last.id };
    if (rows.length < batchSize) return total;
  }
}

async function releaseHeldDeliveries(
  { graceSeconds, batchSize }: { graceSeconds: number; batchSize: number },
  db: Database,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await sqlOn<{ released: number }>(db, RELEASE_HELD_DELIVERIES_SQL, [graceSeconds, batchSize]);
    const released = rows[0]?.released ?? 0;
    if (released > 0) await sqlOn(db, `SELECT pg_notify($1, $2)`, [TASK_RUN_CHANNEL, WEBHOOK_DELIVERY_TASK_ID]);
    total += released;
    if (released < batchSize) return total;
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
      if (count > 0)
        logger.warn(
          { count, graceSeconds },
          usesTriggerDev
            ? "Delivery sweep re-queued open deliveries that had no run"
            : "Delivery sweep released open deliveries held back for no reason that still holds",
        );
    },
  });
}
