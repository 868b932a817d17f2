import {
  configure,
  idempotencyKeys,
  tasks,
  type AnyTask,
  type TaskIdentifier,
  type TaskPayload,
} from "@trigger.dev/sdk";
import { prisma, type Database } from "~/db.server";
import { env } from "~/env.server";
import type { Prisma } from "~/generated/prisma/client";
import { enqueueTaskRuns } from "~/services/jobs/task-runs.server";

/**
 * The one place that triggers tasks. With TRIGGER_SECRET_KEY the run goes to Trigger.dev;
 * without it, to Echo's embedded engine on PostgreSQL (app/services/jobs/). Callers import
 * task types only (`import type`), so no task code enters the web bundle.
 */
export const usesTriggerDev = Boolean(env.TRIGGER_SECRET_KEY);

if (usesTriggerDev) {
  configure({ accessToken: env.TRIGGER_SECRET_KEY, baseURL: env.TRIGGER_API_URL });
}

export type TriggerItem<T extends AnyTask> = {
  payload: TaskPayload<T>;
  /** Deduplicates triggers across the whole environment (not side effects inside a run). */
  idempotencyKey?: string;
  concurrencyKey?: string;
  delayMs?: number;
};

const TRIGGER_DEV_BATCH_LIMIT = 1000;

/**
 * Triggers many runs of one task. In embedded mode, pass `tx` to make the runs part of
 * the caller's transaction (they exist exactly when the caller's writes commit).
 */
export async function triggerTasks<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  items: TriggerItem<T>[],
  { tx }: { tx?: Database | Prisma.TransactionClient } = {},
): Promise<void> {
  if (items.length === 0) return;
  if (!usesTriggerDev) {
    await enqueueTaskRuns(
      tx ?? prisma,
      items.map((item) => ({ taskId, ...item })),
    );
    return;
  }
  for (let start = 0; start < items.length; start += TRIGGER_DEV_BATCH_LIMIT) {
    const chunk = items.slice(start, start + TRIGGER_DEV_BATCH_LIMIT);
    await tasks.batchTrigger<T>(
      taskId,
      await Promise.all(
        chunk.map(async (item) => ({
          payload: item.payload,
          options: {
            idempotencyKey: item.idempotencyKey
              ? await idempotencyKeys.create(item.idempotencyKey, { scope: "global" })
              : undefined,
            concurrencyKey: item.concurrencyKey,
            delay: item.delayMs ? new Date(Date.now() + item.delayMs) : undefined,
          },
        })),
      ),
    );
  }
}

export function triggerTask<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  item: TriggerItem<T>,
  options: { tx?: Database | Prisma.TransactionClient } = {},
): Promise<void> {
  return triggerTasks<T>(taskId, [item], options);
}
