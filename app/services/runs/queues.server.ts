import { prisma, type Database } from "~/db.server";
import { DELIVERY_TASK_ID, TASK_RUN_TASK_IDS } from "~/lib/runs/runs";
import { listEngineWorkers, type EngineWorkerRow, type WorkerQueue } from "~/services/jobs/engine-workers.server";
import { sqlOn } from "~/services/database/sql.server";

/** The keys shown per queue: the busiest (saturated first), enough to spot a hanging target. */
const KEYS_SHOWN = 20;

/** One concurrency key of a queue (a delivery's target: an OAuth app or an endpoint). */
export type QueueKeyView = {
  key: string;
  /** The endpoint's or OAuth app's name, for a delivery target. */
  label: string | null;
  inFlight: number;
  /** Due now and waiting for a slot. */
  queued: number;
  oldestWaitingMs: number | null;
  /** The limit this key reaches: per worker for a per-process queue. */
  limit: number | null;
  /** At its limit: further runs of this key wait however many slots the queue has free. */
  saturated: boolean;
};

export type QueueView = {
  name: string;
  taskIds: string[];
  /** `global`: one limit across all workers; `process`: each worker has its own (the delivery queue, ADR 011). */
  scope: "global" | "process" | null;
  /** The concurrency limit (per worker for a per-process queue); null when no worker has reported it. */
  limit: number | null;
  /** What all live workers together allow. */
  totalLimit: number | null;
  perKey: number | null;
  inFlight: number;
  /** Due now (including runs whose worker's lease lapsed). */
  queued: number;
  /** Waiting for a later time: retries and delays. */
  scheduled: number;
  /** Deliveries held back: a paused endpoint's, or a test send being made. */
  held: number;
  oldestWaitingMs: number | null;
  keys: QueueKeyView[];
};

export type QueuesView = {
  queues: QueueView[];
  workers: EngineWorkerRow[];
  /** Workers that reported within the last few seconds. */
  aliveWorkers: number;
};

type CountRow = {
  task: string;
  key: string | null;
  inFlight: number;
  queued: number;
  scheduled: number;
  held: number;
  busiestWorker: number | null;
  oldestWaitingMs: number | null;
};

/**
 * Every queue: its limit (as the live workers report it), what is in flight, queued, scheduled
 * and held, how long the oldest due run has waited, and its busiest keys. Read from the rows
 * themselves, so it holds across every worker: TaskRuns from (status, taskId, runAt), deliveries
 * from the open-deliveries index (their number, not the table's, bounds the cost).
 */
export async function presentQueues(db: Database = prisma): Promise<QueuesView> {
  const [workers, taskRunRows, taskRunKeyRows, deliveryRows] = await Promise.all([
    listEngineWorkers(db),
    sqlOn<CountRow>(
      db,
      `SELECT "taskId" AS task, NULL AS key,
              count(*) FILTER (WHERE status = 'EXECUTING' AND "lockedUntil" > now())::int AS "inFlight",
              count(*) FILTER (WHERE (status = 'QUEUED' AND "runAt" <= now())
                                  OR (status = 'EXECUTING' AND "lockedUntil" <= now()))::int AS queued,
              count(*) FILTER (WHERE status = 'QUEUED' AND "runAt" > now())::int AS scheduled,
              0 AS held, NULL::int AS "busiestWorker",
              (EXTRACT(EPOCH FROM now() - min("runAt") FILTER (WHERE status = 'QUEUED' AND "runAt" <= now())) * 1000)::float8
                AS "oldestWaitingMs"
       FROM "TaskRun" WHERE status IN ('QUEUED', 'EXECUTING') AND "taskId" <> $1
       GROUP BY "taskId"`,
      [DELIVERY_TASK_ID],
    ),
    sqlOn<CountRow>(
      db,
      `SELECT "taskId" AS task, "concurrencyKey" AS key,
              count(*) FILTER (WHERE status = 'EXECUTING' AND "lockedUntil" > now())::int AS "inFlight",
              count(*) FILTER (WHERE status = 'QUEUED' AND "runAt" <= now())::int AS queued,
              0 AS scheduled, 0 AS held, NULL::int AS "busiestWorker",
              (EXTRACT(EPOCH FROM now() - min("runAt") FILTER (WHERE status = 'QUEUED' AND "runAt" <= now())) * 1000)::float8
                AS "oldestWaitingMs"
       FROM "TaskRun" WHERE status IN ('QUEUED', 'EXECUTING') AND "taskId" <> $1 AND "concurrencyKey" IS NOT NULL
       GROUP BY 1, 2`,
      [DELIVERY_TASK_ID],
    ),
    sqlOn<CountRow>(
      db,
      `WITH open AS (
         SELECT COALESCE(d."oauthClientId", d."endpointId") AS key, d.status, d."nextAttemptAt", d."lockedUntil", d."lockedBy",
                d.status = 'SENDING' AND d."lockedUntil" > now() AS sending
         FROM "WebhookDelivery" d
         WHERE d."completedAt" IS NULL
       ), per_worker AS (
         SELECT key, max(n) AS busiest FROM (SELECT key, "lockedBy", count(*) AS n FROM open WHERE sending GROUP BY 1, 2) w
         GROUP BY key
       )
       SELECT $1 AS task, o.key,
              count(*) FILTER (WHERE o.sending)::int AS "inFlight",
              count(*) FILTER (WHERE (o.status IN ('PENDING', 'RETRYING') AND o."nextAttemptAt" <= now())
                                  OR (o.status = 'SENDING' AND o."lockedUntil" <= now()))::int AS queued,
              count(*) FILTER (WHERE o.status IN ('PENDING', 'RETRYING') AND o."nextAttemptAt" > now())::int AS scheduled,
              count(*) FILTER (WHERE o.status IN ('PENDING', 'RETRYING') AND o."nextAttemptAt" IS NULL)::int AS held,
              max(p.busiest)::int AS "busiestWorker",
              (EXTRACT(EPOCH FROM now() - min(o."nextAttemptAt") FILTER (
                 WHERE o.status IN ('PENDING', 'RETRYING') AND o."nextAttemptAt" <= now())) * 1000)::float8 AS "oldestWaitingMs"
       FROM open o LEFT JOIN per_worker p ON p.key = o.key
       GROUP BY o.key`,
      [DELIVERY_TASK_ID],
    ),
  ]);

  const alive = workers.filter((worker) => worker.alive);
  // The queues as the live workers run them; without one, as the last report had them; else one per task.
  const reported = alive.length > 0 ? alive : workers;
  const definitions = new Map<string, WorkerQueue>();
  for (const worker of reported) for (const queue of worker.queues) definitions.set(queue.name, queue);
  for (const taskId of [...TASK_RUN_TASK_IDS, DELIVERY_TASK_ID]) {
    if (![...definitions.values()].some((queue) => queue.taskIds.includes(taskId))) {
      definitions.set(taskId, { name: taskId, taskIds: [taskId], limit: 0, perKey: null, scope: "global" });
    }
  }
  const known = reported.length > 0;

  const queues = [...definitions.values()].map((definition): QueueView => {
    const isDeliveries = definition.taskIds.includes(DELIVERY_TASK_ID);
    const reportedHere = known && definition.limit > 0;
    const limit = reportedHere ? definition.limit : null;
    const perKey = reportedHere ? definition.perKey : null;
    const totals = (isDeliveries ? deliveryRows.rows : taskRunRows.rows).filter((row) =>
      definition.taskIds.includes(row.task),
    );
    const keyRows = isDeliveries
      ? deliveryRows.rows.filter((row) => row.key !== null)
      : taskRunKeyRows.rows.filter((row) => definition.taskIds.includes(row.task));
    const keys = keyRows
      .map((row): QueueKeyView => {
        const reached = definition.scope === "process" ? (row.busiestWorker ?? 0) : row.inFlight;
        return {
          key: row.key!,
          label: null,
          inFlight: row.inFlight,
          queued: row.queued,
          oldestWaitingMs: row.oldestWaitingMs,
          limit: perKey,
          saturated: perKey !== null && reached >= perKey,
        };
      })
      .filter((key) => key.inFlight > 0 || key.queued > 0)
      .sort(
        (a, b) =>
          Number(b.saturated) - Number(a.saturated) ||
          b.inFlight - a.inFlight ||
          b.queued - a.queued ||
          a.key.localeCompare(b.key),
      )
      .slice(0, KEYS_SHOWN);
    const sum = (pick: (row: CountRow) => number) => totals.reduce((total, row) => total + pick(row), 0);
    const oldest = totals.map((row) => row.oldestWaitingMs).filter((ms): ms is number => ms !== null);
    return {
      name: definition.name,
      taskIds: definition.taskIds,
      scope: reportedHere ? definition.scope : null,
      limit,
      totalLimit: limit === null ? null : definition.scope === "process" ? limit * Math.max(1, alive.length) : limit,
      perKey,
      inFlight: sum((row) => row.inFlight),
      queued: sum((row) => row.queued),
      scheduled: sum((row) => row.scheduled),
      held: sum((row) => row.held),
      oldestWaitingMs: oldest.length > 0 ? Math.max(...oldest) : null,
      keys,
    };
  });
  // Only the keys shown are named: a backlog may span thousands of targets.
  const deliveryKeys = queues
    .filter((queue) => queue.taskIds.includes(DELIVERY_TASK_ID))
    .flatMap((queue) => queue.keys);
  const labels = await targetLabels(
    db,
    deliveryKeys.map((key) => key.key),
  );
  for (const key of deliveryKeys) key.label = labels.get(key.key) ?? null;
  return { queues, workers, aliveWorkers: alive.length };
}

/** Names of delivery targets: an endpoint's name, or an OAuth app's. */
async function targetLabels(db: Database, keys: string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const [endpoints, apps] = await Promise.all([
    db.webhookEndpoint.findMany({ where: { id: { in: keys } }, select: { id: true, name: true, url: true } }),
    db.oAuthClient.findMany({ where: { id: { in: keys } }, select: { id: true, name: true, webhookUrl: true } }),
  ]);
  return new Map([
    ...endpoints.map((endpoint): [string, string] => [endpoint.id, `${endpoint.name} (${endpoint.url})`]),
    ...apps.map((app): [string, string] => [app.id, `${app.name}${app.webhookUrl ? ` (${app.webhookUrl})` : ""}`]),
  ]);
}
