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

/**
 * What Trigger.dev answered for one item: a single trigger answers with the run's id; a batch
 * (SDK 4.8's two-phase batch API) with the batch's id only, the same for each of its items. Both
 * null on the embedded engine (its runs are TaskRun rows, or the delivery rows themselves).
 */
export type TriggeredRun = { runId: string | null; batchId: string | null };

const NOT_ON_TRIGGER_DEV: TriggeredRun = { runId: null, batchId: null };

/** Triggers many runs of one task; answers, item by item, with the Trigger.dev run (or batch) each went to. */
export async function triggerTasks<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  items: TriggerItem<T>[],
  { tx, timeoutMs }: TriggerOptions = {},
): Promise<TriggeredRun[]> {
  if (items.length === 0) return [];
  if (!usesTriggerDev) {
    await enqueueTaskRuns(
      tx ?? prisma,
      items.map((item) => ({ taskId, ...item })),
    );
    return items.map(() => NOT_ON_TRIGGER_DEV);
  }
  if (timeoutMs === undefined) return triggerOnTriggerDev<T>(taskId, items);
  // The SDK takes no AbortSignal: on timeout its request is left to finish or fail on its own. That is
  // harmless, as every item carries its idempotency key: whatever the caller triggers again is the same run.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TriggerTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([triggerOnTriggerDev<T>(taskId, items, { retry: { maxAttempts: 1 } }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function triggerOptions<T extends AnyTask>(item: TriggerItem<T>) {
  return {
    idempotencyKey: item.idempotencyKey
      ? await idempotencyKeys.create(item.idempotencyKey, { scope: "global" })
      : undefined,
    concurrencyKey: item.concurrencyKey,
    delay: item.delayMs ? new Date(Date.now() + item.delayMs) : undefined,
  };
}

/**
 * One item is one `trigger` (one request, and the answer names the run); more go in batches of up
 * to 1,000 (`batchTrigger`: two requests per batch, whatever its size, within Trigger.dev's API rate
 * limit, but the answer names only the batch).
 */
async function triggerOnTriggerDev<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  items: TriggerItem<T>[],
  requestOptions?: ApiRequestOptions,
): Promise<TriggeredRun[]> {
  if (items.length === 1) {
    const [item] = items as [TriggerItem<T>];
    const handle = await tasks.trigger<T>(taskId, item.payload, await triggerOptions(item), requestOptions);
    return [{ runId: handle.id, batchId: null }];
  }
  const triggered: TriggeredRun[] = [];
  for (let start = 0; start < items.length; start += TRIGGER_DEV_BATCH_LIMIT) {
    const chunk = items.slice(start, start + TRIGGER_DEV_BATCH_LIMIT);
    const handle = await tasks.batchTrigger<T>(
      taskId,
      await Promise.all(chunk.map(async (item) => ({ payload: item.payload, options: await triggerOptions(item) }))),
      undefined,
      requestOptions,
    );
    triggered.push(...chunk.map(() => ({ runId: null, batchId: handle.batchId })));
  }
  return triggered;
}

export async function triggerTask<T extends AnyTask>(
  taskId: TaskIdentifier<T>,
  item: TriggerItem<T>,
  options: TriggerOptions = {},
): Promise<TriggeredRun> {
  const [triggered] = await triggerTasks<T>(taskId, [item], options);
  return triggered ?? NOT_ON_TRIGGER_DEV;
}
