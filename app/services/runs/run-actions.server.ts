import { randomUUID } from "node:crypto";
import { prisma, type Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import { DELIVERY_TASK_ID, deliveryRunId, parseRunId } from "~/lib/runs/runs";
import { usesTriggerDev } from "~/services/jobs.server";
import { enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import { ServiceError } from "~/services/service-error.server";
import { triggerDeliveryRunsFromRequest } from "~/services/webhooks/integration-fanout.server";
import { manualRetryKey } from "~/services/webhooks/retry-delivery.server";

/** The operator acting, as the record of the action keeps them. */
export type RunActor = { id: string; email: string };

const NO_SUCH_RUN = "No such run.";

/** What a replay answers when Trigger.dev does not take the run in time: the replay stands, the sweeper sends it. */
export const REPLAY_RECORDED_MESSAGE =
  "The replay is recorded, but the job queue is not answering right now; the delivery will be sent once it answers, with no need to replay it again.";

/**
 * Cancels a queued or retrying run, so that it is never attempted (again). A TaskRun becomes
 * CANCELLED: the engine only claims QUEUED runs (and lapsed EXECUTING ones), so a cancel that
 * commits first wins, and one that comes after the claim finds the run executing and is refused.
 * A delivery becomes FAILED with `cancelledAt` (the delivery log shows it failed, cancelled by
 * whom); its claim locks the row, so the same race has the same two outcomes, and on Trigger.dev a
 * run still queued there finds the delivery finished and does nothing. Either can be replayed.
 */
export async function cancelRun(runId: string, actor: RunActor, db: Database = prisma): Promise<void> {
  const ref = parseRunId(runId);
  const reason = `Cancelled by ${actor.email} from the runs console.`;
  await db.$transaction(async (tx) => {
    if (ref.kind === "task-run") {
      const cancelled = await tx.taskRun.updateMany({
        where: { id: ref.id, status: "QUEUED", taskId: { not: DELIVERY_TASK_ID } },
        data: { status: "CANCELLED", completedAt: new Date(), lockedUntil: null, lastError: reason },
      });
      if (cancelled.count === 0) await refuseCancel(tx, runId);
    } else {
      const now = new Date();
      const cancelled = await tx.webhookDelivery.updateMany({
        where: { id: ref.deliveryId, status: { in: ["PENDING", "RETRYING"] } },
        data: {
          status: "FAILED",
          completedAt: now,
          cancelledAt: now,
          nextAttemptAt: null,
          lockedUntil: null,
          lockedBy: null,
          lastError: reason,
        },
      });
      if (cancelled.count === 0) await refuseCancel(tx, runId);
    }
    await tx.runAction.create({
      data: { runId, kind: "CANCEL", actorId: actor.id, actorEmail: actor.email },
    });
  });
}

async function refuseCancel(tx: Prisma.TransactionClient, runId: string): Promise<never> {
  const ref = parseRunId(runId);
  const state =
    ref.kind === "task-run"
      ? (
          await tx.taskRun.findFirst({
            where: { id: ref.id, taskId: { not: DELIVERY_TASK_ID } },
            select: { status: true },
          })
        )?.status
      : (await tx.webhookDelivery.findUnique({ where: { id: ref.deliveryId }, select: { status: true } }))?.status;
  if (!state) throw new ServiceError(NO_SUCH_RUN, 404);
  const label: Record<string, string> = {
    EXECUTING: "executing",
    SENDING: "executing",
    COMPLETED: "completed",
    SUCCESS: "completed",
    FAILED: "finished",
    CANCELLED: "cancelled",
  };
  throw new ServiceError(
    `Only a queued or retrying run can be cancelled; this one is ${label[state] ?? state.toLowerCase()}.`,
    409,
  );
}

/**
 * Runs a run again with the same payload. A TaskRun gets a new run of its task (no idempotency
 * key, the same concurrency key), linked to this one; Echo's tasks are idempotent against their
 * rows, so a replayed fan-out reaches only recipients it had missed. A delivery's run is the
 * delivery itself: a replay is one more attempt of it (as a retry by hand, with the same
 * `webhook-id`, so receivers can tell it is the same event), for a delivery that has finished.
 * Returns the run to look at: the new TaskRun, or the delivery's run.
 */
export async function replayRun(runId: string, actor: RunActor, db: Database = prisma): Promise<{ runId: string }> {
  const ref = parseRunId(runId);
  if (ref.kind === "delivery") return replayDelivery(ref.deliveryId, runId, actor, db);

  const run = await db.taskRun.findFirst({
    where: { id: ref.id, taskId: { not: DELIVERY_TASK_ID } },
    select: { taskId: true, payload: true, concurrencyKey: true },
  });
  if (!run) throw new ServiceError(NO_SUCH_RUN, 404);
  if (usesTriggerDev) {
    throw new ServiceError(
      "Tasks run on Trigger.dev (TRIGGER_SECRET_KEY is set): replay this run from the Trigger.dev dashboard.",
      409,
    );
  }
  const newRunId = randomUUID();
  await db.$transaction(async (tx) => {
    await enqueueTaskRuns(tx, [
      { id: newRunId, taskId: run.taskId, payload: run.payload, concurrencyKey: run.concurrencyKey ?? undefined },
    ]);
    await tx.runAction.create({
      data: { runId, kind: "REPLAY", resultRunId: newRunId, actorId: actor.id, actorEmail: actor.email },
    });
  });
  return { runId: newRunId };
}

async function replayDelivery(
  deliveryId: string,
  runId: string,
  actor: RunActor,
  db: Database,
): Promise<{ runId: string }> {
  const delivery = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    select: { id: true, status: true, attemptCount: true, oauthClientId: true, endpointId: true },
  });
  if (!delivery) throw new ServiceError(NO_SUCH_RUN, 404);
  if (delivery.status !== "SUCCESS" && delivery.status !== "FAILED") {
    throw new ServiceError(
      "This delivery is still queued, retrying or being sent: it will be attempted; replay it once it has finished.",
      409,
    );
  }
  const reopenedAt = new Date();
  await db.$transaction(async (tx) => {
    const reopened = await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, status: delivery.status },
      data: {
        status: "RETRYING",
        maxAttempts: delivery.attemptCount + 1,
        nextAttemptAt: reopenedAt,
        completedAt: null,
      },
    });
    if (reopened.count === 0) throw new ServiceError("The delivery changed meanwhile; reload and try again.", 409);
    await tx.runAction.create({
      data: { runId, kind: "REPLAY", resultRunId: runId, actorId: actor.id, actorEmail: actor.email },
    });
  });
  // After the commit: the embedded engine makes it due and wakes the queue; Trigger.dev gets a run.
  await triggerDeliveryRunsFromRequest(
    [delivery],
    (id) => manualRetryKey(id, delivery.attemptCount + 1, reopenedAt),
    REPLAY_RECORDED_MESSAGE,
  );
  return { runId: deliveryRunId(delivery.id) };
}
