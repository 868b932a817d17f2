import type { TaskRunStatus, WebhookDeliveryStatus } from "~/generated/prisma/enums";

/**
 * The runs console's vocabulary, shared by the server and the browser (filters, chips). A run is
 * either a TaskRun of the embedded engine, or a webhook delivery: on the embedded engine the
 * `webhook-delivery` task has no TaskRun, its deliveries are claimed from their own rows (ADR 011),
 * so the console derives one run from each delivery.
 */

/** The statuses a run can be in, in the order a run goes through them. */
export const RUN_STATUSES = ["queued", "executing", "retrying", "completed", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const FINISHED_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** The task whose runs are webhook deliveries. */
export const DELIVERY_TASK_ID = "webhook-delivery";

/** The tasks of trigger/ whose runs are TaskRun rows on the embedded engine. */
export const TASK_RUN_TASK_IDS = [
  "oauth-integration-webhook-delivery",
  "webhook-event-fanout",
  "integration-run",
  "integration-health-check",
] as const;

/** Every task of trigger/, as the console's task filter offers them. */
export const RUN_TASK_IDS = [...TASK_RUN_TASK_IDS, DELIVERY_TASK_ID] as const;
export type RunTaskId = (typeof RUN_TASK_IDS)[number];

/** A TaskRun's status as the console shows it: a queued run that has already been attempted is retrying. */
export function taskRunStatus(run: { status: TaskRunStatus; attempt: number }): RunStatus {
  switch (run.status) {
    case "QUEUED":
      return run.attempt > 0 ? "retrying" : "queued";
    case "EXECUTING":
      return "executing";
    case "COMPLETED":
      return "completed";
    case "FAILED":
      return "failed";
    case "CANCELLED":
      return "cancelled";
  }
}

/**
 * A delivery's status as a run's. A cancelled delivery is FAILED with `cancelledAt` at its
 * `completedAt`; reopened and failed again later, its completedAt moves on and it is a failure.
 */
export function deliveryRunStatus(delivery: {
  status: WebhookDeliveryStatus;
  cancelledAt: Date | string | null;
  completedAt: Date | string | null;
}): RunStatus {
  switch (delivery.status) {
    case "PENDING":
      return "queued";
    case "SENDING":
      return "executing";
    case "RETRYING":
      return "retrying";
    case "SUCCESS":
      return "completed";
    case "FAILED":
      return isCancelledDelivery(delivery) ? "cancelled" : "failed";
  }
}

function isCancelledDelivery({
  cancelledAt,
  completedAt,
}: {
  cancelledAt: Date | string | null;
  completedAt: Date | string | null;
}): boolean {
  if (!cancelledAt) return false;
  return !completedAt || new Date(cancelledAt).getTime() >= new Date(completedAt).getTime();
}

const DELIVERY_RUN_PREFIX = "delivery_";

/** The console's id for a delivery's run. */
export function deliveryRunId(deliveryId: string): string {
  return `${DELIVERY_RUN_PREFIX}${deliveryId}`;
}

export type RunRef = { kind: "task-run"; id: string } | { kind: "delivery"; deliveryId: string };

/** What a console run id names: `delivery_<id>` is a delivery's run, anything else a TaskRun. */
export function parseRunId(runId: string): RunRef {
  return runId.startsWith(DELIVERY_RUN_PREFIX) && runId.length > DELIVERY_RUN_PREFIX.length
    ? { kind: "delivery", deliveryId: runId.slice(DELIVERY_RUN_PREFIX.length) }
    : { kind: "task-run", id: runId };
}

/** The idempotency key a delivery's run has on Trigger.dev, shown for delivery runs on both engines. */
export function deliveryIdempotencyKey(deliveryId: string): string {
  return `delivery:${deliveryId}`;
}

/** The Trigger.dev dashboard's page for a run (it redirects a signed-in member to the run in its project). */
export function triggerDevRunUrl(dashboardUrl: string, runId: string): string {
  return `${dashboardUrl.replace(/\/+$/, "")}/runs/${encodeURIComponent(runId)}`;
}
