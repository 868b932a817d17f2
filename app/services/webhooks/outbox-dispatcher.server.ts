import { prisma, type Database } from "~/db.server";
import { logger } from "~/logger.server";
import { runPeriodically } from "~/services/jobs/periodic.server";
import { sqlOn } from "~/services/database/sql.server";
import { TASK_RUN_CHANNEL } from "~/services/jobs/task-runs.server";
import { triggerTasks, usesTriggerDev } from "~/services/jobs.server";
import { recordTriggerDevRuns } from "~/services/jobs/trigger-dev-runs.server";
import type { oauthIntegrationWebhookDeliveryTask } from "../../../trigger/oauth-integration-webhook-delivery";
import type { webhookEventFanoutTask } from "../../../trigger/webhook-event-fanout";

/** Integration events fan out (to OAuth apps and endpoints) through the seed's task. */
export const INTEGRATION_FANOUT_TASK_ID = "oauth-integration-webhook-delivery";
/** Every other event type fans out to the endpoints subscribed to it. */
export const EVENT_FANOUT_TASK_ID = "webhook-event-fanout";

const DISPATCH_BATCH_SIZE = 500;

/**
 * How long a hand-over waits on Trigger.dev's API, all requests together. It runs in the request that
 * recorded the event, and holds the events' row locks in a transaction: on failure the outbox sweep
 * retries within OUTBOX_SWEEP_INTERVAL_MS, so waiting longer (or retrying inside the SDK) buys nothing.
 */
export const TRIGGER_DEV_HANDOVER_TIMEOUT_MS = 5_000;
/** The transaction outlives the API calls by this much, so a failure is always recorded, never cut off. */
const HANDOVER_TRANSACTION_MARGIN_MS = 5_000;

type PendingEvent = { id: string; type: string };

/** Which recorded events to hand over: those of one source, or these ids (a publish's own); else all. */
export type OutboxFilter = { source?: string; eventIds?: string[] };

/**
 * Hands recorded WebhookEvents (the outbox) to the job engine and marks them handed over.
 * Embedded engine: the runs and the mark commit together, in one statement. Trigger.dev: the
 * runs are triggered first, with an idempotency key per event, so a crash before the mark
 * only causes a trigger that Trigger.dev deduplicates. Returns how many events were handed over.
 */
export async function dispatchPendingEvents(filter: OutboxFilter = {}, db: Database = prisma): Promise<number> {
  let total = 0;
  for (;;) {
    const handed = usesTriggerDev ? await handOverToTriggerDev(filter, db) : await handOverToEmbeddedEngine(filter, db);
    total += handed;
    if (handed < DISPATCH_BATCH_SIZE) return total;
  }
}

/** The fan-out task of each event type (a `type` column), for the embedded engine's statements. */
export const fanOutTaskSql = `CASE WHEN type LIKE 'integration.%' THEN '${INTEGRATION_FANOUT_TASK_ID}' ELSE '${EVENT_FANOUT_TASK_ID}' END`;

/**
 * The embedded engine's hand-over of events as SQL, for a statement that records them and wants
 * them handed over in the same breath (publishing): one run per event of `fromCte` (with `id` and
 * `type` columns), exactly the run the hand-over below queues (same task, payload and key).
 */
export function embeddedFanOutRunsSql(fromCte: string): string {
  return `INSERT INTO "TaskRun" ("id", "taskId", "payload", "idempotencyKey", "runAt", "updatedAt")
       SELECT gen_random_uuid()::text, ${fanOutTaskSql}, jsonb_build_object('eventId', id), type || ':' || id, now(), now()
       FROM ${fromCte}
       ON CONFLICT ("taskId", "idempotencyKey") DO NOTHING`;
}

/**
 * One round trip instead of six: this runs after every event a user causes, in the request
 * that caused it. The runs are exactly those triggerTasks would queue (same task, payload
 * and idempotency key `type:id`), so a run the sweeper or a retry queues again is a no-op.
 */
async function handOverToEmbeddedEngine(filter: OutboxFilter, db: Database): Promise<number> {
  const { rows } = await sqlOn<{ handed: number }>(
    db,
    `WITH picked AS (
       SELECT id, type FROM "WebhookEvent"
       WHERE "dispatchedAt" IS NULL AND ($1::text IS NULL OR source = $1) AND ($4::text[] IS NULL OR id = ANY($4))
       ORDER BY "createdAt" LIMIT $2 FOR UPDATE SKIP LOCKED
     ), runs AS (
       INSERT INTO "TaskRun" ("id", "taskId", "payload", "idempotencyKey", "runAt", "updatedAt")
       SELECT gen_random_uuid()::text, ${fanOutTaskSql}, jsonb_build_object('eventId', id), type || ':' || id, now(), now()
       FROM picked
       ON CONFLICT ("taskId", "idempotencyKey") DO NOTHING
     ), marked AS (
       UPDATE "WebhookEvent" e
       SET "dispatchedAt" = now(), "dispatchAttempts" = e."dispatchAttempts" + 1, "lastDispatchError" = NULL
       FROM picked WHERE e.id = picked.id
       RETURNING e.id
     )
     SELECT (SELECT count(*) FROM marked)::int AS handed
     FROM (SELECT pg_notify($3, string_agg(DISTINCT ${fanOutTaskSql}, ',')) FROM picked HAVING count(*) > 0) AS wake`,
    [filter.source ?? null, DISPATCH_BATCH_SIZE, TASK_RUN_CHANNEL, filter.eventIds ?? null],
  );
  return rows[0]?.handed ?? 0;
}

async function handOverToTriggerDev(filter: OutboxFilter, db: Database): Promise<number> {
  const outcome = await db.$transaction(
    async (tx) => {
      const events = filter.eventIds
        ? await tx.$queryRaw<PendingEvent[]>`
          SELECT id, type FROM "WebhookEvent"
          WHERE "dispatchedAt" IS NULL AND id = ANY(${filter.eventIds}::text[])
          ORDER BY "createdAt" LIMIT ${DISPATCH_BATCH_SIZE} FOR UPDATE SKIP LOCKED`
        : filter.source
          ? await tx.$queryRaw<PendingEvent[]>`
          SELECT id, type FROM "WebhookEvent"
          WHERE "dispatchedAt" IS NULL AND source = ${filter.source}
          ORDER BY "createdAt" LIMIT ${DISPATCH_BATCH_SIZE} FOR UPDATE SKIP LOCKED`
          : await tx.$queryRaw<PendingEvent[]>`
          SELECT id, type FROM "WebhookEvent" WHERE "dispatchedAt" IS NULL
          ORDER BY "createdAt" LIMIT ${DISPATCH_BATCH_SIZE} FOR UPDATE SKIP LOCKED`;
      if (events.length === 0) return { handed: 0 } as const;
      const toItem = (event: PendingEvent) => ({
        payload: { eventId: event.id },
        idempotencyKey: `${event.type}:${event.id}`,
      });
      const deadline = Date.now() + TRIGGER_DEV_HANDOVER_TIMEOUT_MS;
      const timeoutMs = () => Math.max(1, deadline - Date.now());
      const integrationEvents = events.filter((event) => event.type.startsWith("integration."));
      const otherEvents = events.filter((event) => !event.type.startsWith("integration."));
      let triggered;
      try {
        triggered = [
          ...(await triggerTasks<typeof oauthIntegrationWebhookDeliveryTask>(
            INTEGRATION_FANOUT_TASK_ID,
            integrationEvents.map(toItem),
            { timeoutMs: timeoutMs() },
          )),
          ...(await triggerTasks<typeof webhookEventFanoutTask>(EVENT_FANOUT_TASK_ID, otherEvents.map(toItem), {
            timeoutMs: timeoutMs(),
          })),
        ];
      } catch (error) {
        return { handed: undefined, failed: events, error };
      }
      await tx.webhookEvent.updateMany({
        where: { id: { in: events.map((event) => event.id) } },
        data: { dispatchedAt: new Date(), dispatchAttempts: { increment: 1 }, lastDispatchError: null },
      });
      // The run (or batch) each event went to, for the runs console's link to it.
      await recordTriggerDevRuns(
        tx,
        "WebhookEvent",
        [...integrationEvents, ...otherEvents].map((event, index) => ({ id: event.id, ...triggered[index]! })),
      );
      return { handed: events.length } as const;
    },
    { timeout: TRIGGER_DEV_HANDOVER_TIMEOUT_MS + HANDOVER_TRANSACTION_MARGIN_MS },
  );
  if (outcome.handed !== undefined) return outcome.handed;
  // Recorded outside the transaction (which wrote nothing), so the outbox shows why the events still wait.
  const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
  await db.webhookEvent.updateMany({
    where: { id: { in: outcome.failed.map((event) => event.id) } },
    data: { dispatchAttempts: { increment: 1 }, lastDispatchError: message.slice(0, 2000) },
  });
  throw outcome.error;
}

/** The safety net: whatever the fast path did not hand over (engine down, crash) goes now. */
export function startOutboxSweeper({
  intervalMs,
  db = prisma,
}: {
  intervalMs: number;
  db?: Database;
}): () => Promise<void> {
  return runPeriodically({
    name: "Outbox sweep",
    intervalMs,
    firstAfterMs: 0,
    work: async () => {
      const count = await dispatchPendingEvents({}, db);
      if (count > 0) logger.info({ count }, "Outbox sweep handed events to the job engine");
    },
  });
}
