import { z } from "zod";
import { RUN_STATUSES } from "~/lib/runs/runs";
import type { RunDetail } from "~/services/runs/run-detail.server";
import type { RunSummary } from "~/services/runs/run-list.server";

const IsoDateTime = z.iso.datetime({ offset: true });
const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

/** One run as the JSON API lists it: a TaskRun of the embedded engine, or a delivery as a `webhook-delivery` run. */
export const ApiRunSummarySchema = z
  .object({
    id: z.string().meta({ description: "A TaskRun's id, or `delivery_<deliveryId>` for a delivery's run." }),
    task: z.string(),
    source: z.enum(["task-run", "delivery"]),
    status: z.enum(RUN_STATUSES),
    attempt: z.number().int().meta({ description: "Attempts started so far." }),
    maxAttempts: z.number().int().nullable().meta({ description: "Deliveries only: the most attempts it gets." }),
    createdAt: IsoDateTime,
    completedAt: IsoDateTime.nullable(),
    nextAttemptAt: IsoDateTime.nullable().meta({ description: "Queued or retrying: when the next attempt is due." }),
    held: z
      .boolean()
      .meta({ description: "A delivery held back (its endpoint is paused, or a test send is being made)." }),
    lockedBy: z.string().nullable().meta({ description: "Executing: the worker holding the lease." }),
    lockedUntil: IsoDateTime.nullable(),
    idempotencyKey: z.string().nullable(),
    concurrencyKey: z.string().nullable(),
    lastError: z.string().nullable(),
    subject: z.string().meta({ description: "What the run is about: an event and its target, or the payload's ids." }),
  })
  .meta({ id: "RunSummary" });

const TriggerDevRunSchema = z
  .object({
    runId: z.string().nullable(),
    batchId: z.string().nullable(),
    url: z.string().nullable().meta({ description: "The run in the Trigger.dev dashboard (`TRIGGER_DASHBOARD_URL`)." }),
  })
  .nullable()
  .meta({ description: "When tasks run on Trigger.dev: the run (or batch) that took it." });

export const ApiRunSchema = ApiRunSummarySchema.extend({
  payload: z.unknown().meta({ description: "Secrets and sealed input read `[redacted]` or `[sealed: …]`." }),
  attempts: z.array(
    z.object({
      number: z.number().int(),
      startedAt: IsoDateTime.nullable(),
      endedAt: IsoDateTime.nullable(),
      durationMs: z.number().int().nullable(),
      outcome: z.enum(["executing", "completed", "retrying", "failed", "interrupted"]),
      workerId: z.string().nullable(),
      error: z.string().nullable(),
      stack: z.string().nullable(),
      nextRetryAt: IsoDateTime.nullable(),
      responseStatus: z.number().int().nullable().meta({ description: "Deliveries: the receiver's HTTP status." }),
    }),
  ),
  lease: z
    .object({
      workerId: z.string(),
      until: IsoDateTime.nullable(),
      worker: z
        .object({ hostname: z.string(), pid: z.number().int(), heartbeatAt: IsoDateTime, alive: z.boolean() })
        .nullable(),
    })
    .nullable(),
  event: z
    .object({
      id: z.string(),
      type: z.string(),
      source: z.string(),
      createdAt: IsoDateTime,
      dispatchedAt: IsoDateTime.nullable(),
      lastDispatchError: z.string().nullable(),
      fanOutRunId: z.string().nullable(),
      triggerDev: TriggerDevRunSchema,
    })
    .nullable(),
  deliveries: z
    .array(
      z.object({
        runId: z.string(),
        status: z.enum(RUN_STATUSES),
        target: z.string(),
        url: z.string(),
        attempts: z.number().int(),
        createdAt: IsoDateTime,
      }),
    )
    .meta({ description: "A fan-out's deliveries; for a delivery, the other deliveries of its event (at most 100)." }),
  deliveryCount: z.number().int(),
  target: z
    .object({ name: z.string().nullable(), url: z.string(), kind: z.enum(["oauth-app", "endpoint"]) })
    .nullable(),
  requestBody: z.unknown().meta({ description: "Deliveries: the body sent, secret-named fields redacted." }),
  triggerDev: TriggerDevRunSchema,
  actions: z.array(
    z.object({
      kind: z.enum(["replay", "cancel"]),
      actorEmail: z.string(),
      createdAt: IsoDateTime,
      runId: z.string(),
      resultRunId: z.string().nullable(),
    }),
  ),
  replayOf: z.string().nullable(),
  canCancel: z.boolean(),
  canReplay: z.boolean(),
}).meta({ id: "Run" });

export const ApiRunListSchema = z.object({
  data: z.array(ApiRunSummarySchema),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }),
});

export function presentApiRunSummary(run: RunSummary): z.infer<typeof ApiRunSummarySchema> {
  return {
    id: run.id,
    task: run.taskId,
    source: run.source,
    status: run.status,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    createdAt: run.createdAt.toISOString(),
    completedAt: iso(run.completedAt),
    nextAttemptAt: iso(run.nextAttemptAt),
    held: run.held,
    lockedBy: run.lockedBy,
    lockedUntil: iso(run.lockedUntil),
    idempotencyKey: run.idempotencyKey,
    concurrencyKey: run.concurrencyKey,
    lastError: run.lastError,
    subject: run.subject,
  };
}

export function presentApiRun(run: RunDetail): z.infer<typeof ApiRunSchema> {
  return {
    ...presentApiRunSummary({ ...run, lockedBy: run.lease?.workerId ?? null, lockedUntil: run.lease?.until ?? null }),
    payload: run.payload,
    attempts: run.attempts.map((attempt) => ({
      ...attempt,
      startedAt: iso(attempt.startedAt),
      endedAt: iso(attempt.endedAt),
      nextRetryAt: iso(attempt.nextRetryAt),
    })),
    lease: run.lease
      ? {
          workerId: run.lease.workerId,
          until: iso(run.lease.until),
          worker: run.lease.worker
            ? { ...run.lease.worker, heartbeatAt: run.lease.worker.heartbeatAt.toISOString() }
            : null,
        }
      : null,
    event: run.event
      ? {
          id: run.event.id,
          type: run.event.type,
          source: run.event.source,
          createdAt: run.event.createdAt.toISOString(),
          dispatchedAt: iso(run.event.dispatchedAt),
          lastDispatchError: run.event.lastDispatchError,
          fanOutRunId: run.event.fanOutRunId,
          triggerDev: run.event.trigger,
        }
      : null,
    deliveries: run.deliveries.map((delivery) => ({ ...delivery, createdAt: delivery.createdAt.toISOString() })),
    deliveryCount: run.deliveryCount,
    target: run.target,
    requestBody: run.requestBody,
    triggerDev: run.trigger,
    actions: run.actions.map((action) => ({ ...action, createdAt: action.createdAt.toISOString() })),
    replayOf: run.replayOf,
    canCancel: run.canCancel,
    canReplay: run.canReplay,
  };
}
