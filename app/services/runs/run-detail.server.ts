import { prisma, type Database } from "~/db.server";
import { env } from "~/env.server";
import { redactRunPayload } from "~/lib/runs/redact-payload";
import {
  DELIVERY_TASK_ID,
  TASK_RUN_TASK_IDS,
  deliveryIdempotencyKey,
  deliveryRunId,
  deliveryRunStatus,
  parseRunId,
  taskRunStatus,
  triggerDevRunUrl,
  type RunStatus,
} from "~/lib/runs/runs";
import { listEngineWorkers, type EngineWorkerRow } from "~/services/jobs/engine-workers.server";
import { payloadSubject, type RunSummary } from "./run-list.server";

/** At most this many of an event's deliveries are listed on its fan-out run (the count says how many there are). */
const DELIVERIES_SHOWN = 100;

export type RunAttempt = {
  number: number;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
  outcome: "executing" | "completed" | "retrying" | "failed" | "interrupted";
  workerId: string | null;
  error: string | null;
  stack: string | null;
  nextRetryAt: Date | null;
  /** Deliveries: what the receiver answered. */
  responseStatus: number | null;
};

export type RunEvent = {
  id: string;
  type: string;
  source: string;
  createdAt: Date;
  dispatchedAt: Date | null;
  lastDispatchError: string | null;
  /** The run that fans the event out: a TaskRun on the embedded engine, null when there is none (any more). */
  fanOutRunId: string | null;
  trigger: TriggerDevRun | null;
};

export type RunDelivery = {
  runId: string;
  status: RunStatus;
  target: string;
  url: string;
  attempts: number;
  createdAt: Date;
};

/** The run on Trigger.dev behind an event or a delivery, when tasks run there. */
export type TriggerDevRun = { runId: string | null; batchId: string | null; url: string | null };

export type RunLease = {
  workerId: string;
  until: Date | null;
  /** The worker's own report (ADR 013): null when it never reported or was forgotten. */
  worker: Pick<EngineWorkerRow, "hostname" | "pid" | "heartbeatAt" | "alive"> | null;
};

export type RunActionRecord = {
  kind: "replay" | "cancel";
  actorEmail: string;
  createdAt: Date;
  /** Replays: the run acted on and the run it made (for a delivery, the same run). */
  runId: string;
  resultRunId: string | null;
};

/** The list's fields of a run (its lease is `lease` here, with the worker's report), and everything the page shows. */
export type RunDetail = Omit<RunSummary, "lockedBy" | "lockedUntil"> & {
  /** Secrets and sealed input redacted. */
  payload: unknown;
  attempts: RunAttempt[];
  lease: RunLease | null;
  event: RunEvent | null;
  /** What the run produced (a fan-out's deliveries), or its siblings (a delivery's event's other deliveries). */
  deliveries: RunDelivery[];
  deliveryCount: number;
  /** Deliveries: where it goes and the exact body sent, secrets redacted. */
  target: { name: string | null; url: string; kind: "oauth-app" | "endpoint" } | null;
  requestBody: unknown;
  trigger: TriggerDevRun | null;
  actions: RunActionRecord[];
  /** Replays point back at the run they were made from. */
  replayOf: string | null;
  canCancel: boolean;
  canReplay: boolean;
};

function triggerDevRun(ids: { triggerRunId: string | null; triggerBatchId: string | null }): TriggerDevRun | null {
  if (!ids.triggerRunId && !ids.triggerBatchId) return null;
  return {
    runId: ids.triggerRunId,
    batchId: ids.triggerBatchId,
    url: ids.triggerRunId ? triggerDevRunUrl(env.TRIGGER_DASHBOARD_URL, ids.triggerRunId) : null,
  };
}

function leaseOf(workerId: string | null, until: Date | null, workers: EngineWorkerRow[]): RunLease | null {
  if (!workerId) return null;
  const worker = workers.find((row) => row.id === workerId);
  return {
    workerId,
    until,
    worker: worker
      ? { hostname: worker.hostname, pid: worker.pid, heartbeatAt: worker.heartbeatAt, alive: worker.alive }
      : null,
  };
}

async function actionsOn(db: Database, runId: string) {
  const rows = await db.runAction.findMany({
    where: { OR: [{ runId }, { resultRunId: runId }] },
    orderBy: { createdAt: "desc" },
    take: 50,
    select: { kind: true, actorEmail: true, createdAt: true, runId: true, resultRunId: true },
  });
  const actions: RunActionRecord[] = rows.map((row) => ({
    kind: row.kind === "REPLAY" ? "replay" : "cancel",
    actorEmail: row.actorEmail,
    createdAt: row.createdAt,
    runId: row.runId,
    resultRunId: row.resultRunId,
  }));
  const replayOf = rows.find((row) => row.kind === "REPLAY" && row.resultRunId === runId && row.runId !== runId);
  return { actions, replayOf: replayOf?.runId ?? null };
}

/** The event a run is about, with the run that fanned it out (a TaskRun, found by its idempotency key). */
async function eventOf(db: Database, eventId: string): Promise<RunEvent | null> {
  const event = await db.webhookEvent.findUnique({
    where: { id: eventId },
    select: {
      id: true,
      type: true,
      source: true,
      createdAt: true,
      dispatchedAt: true,
      lastDispatchError: true,
      triggerRunId: true,
      triggerBatchId: true,
    },
  });
  if (!event) return null;
  const fanOut = await db.taskRun.findFirst({
    where: { taskId: { in: [...TASK_RUN_TASK_IDS] }, idempotencyKey: `${event.type}:${event.id}` },
    select: { id: true },
  });
  return {
    id: event.id,
    type: event.type,
    source: event.source,
    createdAt: event.createdAt,
    dispatchedAt: event.dispatchedAt,
    lastDispatchError: event.lastDispatchError,
    fanOutRunId: fanOut?.id ?? null,
    trigger: triggerDevRun(event),
  };
}

async function deliveriesOf(db: Database, eventId: string): Promise<{ deliveries: RunDelivery[]; count: number }> {
  const [rows, count] = await Promise.all([
    db.webhookDelivery.findMany({
      where: { eventId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: DELIVERIES_SHOWN,
      select: {
        id: true,
        status: true,
        cancelledAt: true,
        completedAt: true,
        url: true,
        attemptCount: true,
        createdAt: true,
        endpoint: { select: { name: true } },
        oauthClient: { select: { name: true } },
      },
    }),
    db.webhookDelivery.count({ where: { eventId } }),
  ]);
  return {
    count,
    deliveries: rows.map((row) => ({
      runId: deliveryRunId(row.id),
      status: deliveryRunStatus(row),
      target: row.endpoint?.name ?? row.oauthClient?.name ?? "(deleted)",
      url: row.url,
      attempts: row.attemptCount,
      createdAt: row.createdAt,
    })),
  };
}

/** One run with everything the console shows about it; null when there is no such run. */
export async function getRunDetail(runId: string, db: Database = prisma): Promise<RunDetail | null> {
  const ref = parseRunId(runId);
  return ref.kind === "delivery" ? deliveryRunDetail(db, ref.deliveryId) : taskRunDetail(db, ref.id);
}

async function taskRunDetail(db: Database, id: string): Promise<RunDetail | null> {
  const run = await db.taskRun.findUnique({
    where: { id },
    include: { attempts: { orderBy: { attemptNumber: "asc" } } },
  });
  // Deliveries' own runs (before ADR 011) are bookkeeping the delivery rows replaced.
  if (!run || run.taskId === DELIVERY_TASK_ID) return null;
  const status = taskRunStatus(run);
  const [workers, { actions, replayOf }] = await Promise.all([listEngineWorkers(db), actionsOn(db, run.id)]);

  const attempts: RunAttempt[] = run.attempts.map((attempt) => ({
    number: attempt.attemptNumber,
    startedAt: attempt.startedAt,
    endedAt: attempt.endedAt,
    durationMs: attempt.endedAt.getTime() - attempt.startedAt.getTime(),
    outcome: attempt.outcome.toLowerCase() as RunAttempt["outcome"],
    workerId: attempt.workerId,
    error: attempt.error,
    stack: attempt.stack,
    nextRetryAt: attempt.nextRetryAt,
    responseStatus: null,
  }));
  if (status === "executing" && !attempts.some((attempt) => attempt.number === run.attempt)) {
    attempts.push({
      number: run.attempt,
      startedAt: run.attemptStartedAt,
      endedAt: null,
      durationMs: null,
      outcome: "executing",
      workerId: run.lockedBy,
      error: null,
      stack: null,
      nextRetryAt: null,
      responseStatus: null,
    });
  }

  const eventId =
    run.payload && typeof run.payload === "object" && typeof (run.payload as { eventId?: unknown }).eventId === "string"
      ? (run.payload as { eventId: string }).eventId
      : null;
  const [event, produced] = await Promise.all([
    eventId ? eventOf(db, eventId) : null,
    eventId ? deliveriesOf(db, eventId) : { deliveries: [], count: 0 },
  ]);
  const open = status === "queued" || status === "retrying";
  return {
    id: run.id,
    source: "task-run",
    taskId: run.taskId,
    status,
    attempt: run.attempt,
    maxAttempts: null,
    createdAt: run.createdAt,
    completedAt: run.completedAt,
    nextAttemptAt: open ? run.runAt : null,
    held: false,
    idempotencyKey: run.idempotencyKey,
    concurrencyKey: run.concurrencyKey,
    lastError: status === "completed" ? null : run.lastError,
    subject: payloadSubject(run.payload, event?.type),
    payload: redactRunPayload(run.taskId, run.payload),
    attempts,
    lease: status === "executing" ? leaseOf(run.lockedBy, run.lockedUntil, workers) : null,
    event,
    deliveries: produced.deliveries,
    deliveryCount: produced.count,
    target: null,
    requestBody: null,
    trigger: null,
    actions,
    replayOf,
    canCancel: open,
    canReplay: true,
  };
}

async function deliveryRunDetail(db: Database, deliveryId: string): Promise<RunDetail | null> {
  const delivery = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: {
      attempts: { orderBy: { attemptNumber: "asc" } },
      endpoint: { select: { name: true } },
      oauthClient: { select: { name: true } },
    },
  });
  if (!delivery) return null;
  const runId = deliveryRunId(delivery.id);
  const status = deliveryRunStatus(delivery);
  const [workers, { actions }, event, siblings] = await Promise.all([
    listEngineWorkers(db),
    actionsOn(db, runId),
    eventOf(db, delivery.eventId),
    deliveriesOf(db, delivery.eventId),
  ]);
  const last = delivery.attempts.at(-1);
  const attempts: RunAttempt[] = delivery.attempts.map((attempt) => {
    const succeeded = attempt.responseStatus !== null && attempt.responseStatus >= 200 && attempt.responseStatus < 300;
    return {
      number: attempt.attemptNumber,
      startedAt: attempt.startedAt,
      endedAt: new Date(attempt.startedAt.getTime() + attempt.durationMs),
      durationMs: attempt.durationMs,
      outcome: succeeded ? "completed" : attempt.nextAttemptAt ? "retrying" : "failed",
      workerId: null,
      error: attempt.error,
      stack: null,
      nextRetryAt: attempt.nextAttemptAt,
      responseStatus: attempt.responseStatus,
    };
  });
  if (status === "executing" && (!last || last.attemptNumber < delivery.attemptCount)) {
    attempts.push({
      number: delivery.attemptCount,
      startedAt: null,
      endedAt: null,
      durationMs: null,
      outcome: "executing",
      workerId: delivery.lockedBy,
      error: null,
      stack: null,
      nextRetryAt: null,
      responseStatus: null,
    });
  }
  const open = status === "queued" || status === "retrying";
  return {
    id: runId,
    source: "delivery",
    taskId: DELIVERY_TASK_ID,
    status,
    attempt: delivery.attemptCount,
    maxAttempts: delivery.maxAttempts,
    createdAt: delivery.createdAt,
    completedAt: delivery.completedAt,
    nextAttemptAt: open ? delivery.nextAttemptAt : null,
    held: open && delivery.nextAttemptAt === null,
    idempotencyKey: deliveryIdempotencyKey(delivery.id),
    concurrencyKey: delivery.oauthClientId ?? delivery.endpointId,
    lastError: status === "completed" ? null : delivery.lastError,
    subject: `${delivery.eventType} → ${delivery.url}`,
    payload: { deliveryId: delivery.id },
    attempts,
    lease: status === "executing" ? leaseOf(delivery.lockedBy, delivery.lockedUntil, workers) : null,
    event,
    deliveries: siblings.deliveries.filter((sibling) => sibling.runId !== runId),
    deliveryCount: Math.max(0, siblings.count - 1),
    target: {
      name: delivery.endpoint?.name ?? delivery.oauthClient?.name ?? null,
      url: delivery.url,
      kind: delivery.endpointId ? "endpoint" : "oauth-app",
    },
    requestBody: parseBody(delivery.body),
    trigger: triggerDevRun(delivery),
    actions,
    replayOf: null,
    canCancel: open,
    canReplay: status === "completed" || status === "failed" || status === "cancelled",
  };
}

/** The body as JSON with secret-named fields hidden (the signed bytes themselves are the delivery log's). */
function parseBody(body: string): unknown {
  try {
    return redactRunPayload(DELIVERY_TASK_ID, JSON.parse(body));
  } catch {
    return body.length > 4096 ? `${body.slice(0, 4096)}…` : body;
  }
}
