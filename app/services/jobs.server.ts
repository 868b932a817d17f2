import {
  configure,
  idempotencyKeys,
  tasks,
  type AnyTask,
  type TaskIdentifier,
  type TaskPayload,
} from "@trigger.dev/sdk";
import type { ApiRequestOptions } from "@trigger.dev/core/v3";
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

export type TriggerOptions = {
  /** Embedded engine: make the runs part of the caller's transaction (they exist exactly when its writes commit). */
  tx?: Database | Prisma.TransactionClient;
  /**
   * Trigger.dev: fail after this long, with no retry inside the SDK, for callers that retry on their own.
   * Without it the SDK retries a 5xx for about 9 s per request, and waits up to fetch's 5 minutes
   * for an API that never answers.
   */
  timeoutMs?: number;
};

/** Trigger.dev's API did not answer within the caller's `timeoutMs`; the runs may or may not exist. */
export class TriggerTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Trigger.dev did not answer within ${timeoutMs} ms`);
    this.name = "TriggerTimeoutError";
  }
}

/** Triggers many runs of one task. */
export async function triggerTasks<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  items: TriggerItem<T>[],
  { tx, timeoutMs }: TriggerOptions = {},
): Promise<void> {
  if (items.length === 0) return;
  if (!usesTriggerDev) {
    await enqueueTaskRuns(
      tx ?? prisma,
      items.map((item) => ({ taskId, ...item })),
    );
    return;
  }
  if (timeoutMs === undefined) return batchTriggerOnTriggerDev<T>(taskId, items);
  // The SDK takes no AbortSignal: on timeout its request is left to finish or fail on its own. That is
  // harmless, as every item carries its idempotency key: whatever the caller triggers again is the same run.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TriggerTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([batchTriggerOnTriggerDev<T>(taskId, items, { retry: { maxAttempts: 1 } }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function batchTriggerOnTriggerDev<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  items: TriggerItem<T>[],
  requestOptions?: ApiRequestOptions,
): Promise<void> {
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
      undefined,
      requestOptions,
    );
  }
}

export function triggerTask<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  item: TriggerItem<T>,
  options: TriggerOptions = {},
): Promise<void> {
  return triggerTasks<T>(taskId, [item], options);
}
