import { randomUUID } from "node:crypto";
import { calculateNextRetryDelay, type RetryOptions } from "@trigger.dev/core/v3";
import { AbortTaskRunError } from "@trigger.dev/sdk";
import pg from "pg";
import type { Logger } from "pino";
import type { Database } from "~/db.server";
import type { LoadedTask, TaskCatalog } from "./task-catalog.server";
import { TASK_RUN_CHANNEL } from "./task-runs.server";

/** trigger.config.ts's defaults, used for tasks that set no `retry` of their own. */
export const DEFAULT_TASK_RETRY: RetryOptions = {
  maxAttempts: 3,
  factor: 2,
  minTimeoutInMs: 1000,
  maxTimeoutInMs: 60_000,
  randomize: true,
};

export type EngineOptions = {
  db: Database;
  /** A dedicated connection LISTENs for new runs, so idle workers react at once. */
  databaseUrl: string;
  logger: Logger;
  workerId?: string;
  /** How long a claimed run stays ours without a heartbeat; a dead worker's runs return after it. */
  leaseMs?: number;
  pollIntervalMs?: number;
  claimBatchSize?: number;
  /** On stop, how long running attempts may take to finish before their leases are released. */
  shutdownGraceMs?: number;
};

type ClaimedRun = {
  id: string;
  taskId: string;
  payload: unknown;
  attempt: number;
  createdAt: Date;
  idempotencyKey: string | null;
};

type QueueState = {
  name: string;
  limit: number;
  taskIds: string[];
  inFlight: Map<string, AbortController>;
  wake: () => void;
  waiting: Promise<void> | undefined;
};

function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 4000);
  return String(error).slice(0, 4000);
}

/**
 * Runs the task definitions of trigger/ on PostgreSQL when Trigger.dev is not configured,
 * honouring each task's id, queue concurrency, retry options, catchError and onFailure.
 * Durable: runs are rows; a claimed run has a lease that heartbeats extend, so a worker
 * killed mid-run loses its lease and another (or the restarted one) runs the attempt again.
 */
export class EmbeddedTaskEngine {
  readonly workerId: string;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly claimBatchSize: number;
  private readonly shutdownGraceMs: number;
  private readonly queues: QueueState[];
  private running = false;
  private loops: Promise<void>[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private readonly executions = new Set<Promise<void>>();

  constructor(
    private readonly catalog: TaskCatalog,
    private readonly options: EngineOptions,
  ) {
    this.workerId = options.workerId ?? `worker-${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.claimBatchSize = options.claimBatchSize ?? 100;
    this.shutdownGraceMs = options.shutdownGraceMs ?? 10_000;

    const byQueue = new Map<string, QueueState>();
    for (const task of catalog.values()) {
      const queue: QueueState = byQueue.get(task.queueName) ?? {
        name: task.queueName,
        limit: task.concurrencyLimit,
        taskIds: [],
        inFlight: new Map(),
        wake: () => undefined,
        waiting: undefined,
      };
      queue.limit = Math.min(queue.limit, task.concurrencyLimit);
      queue.taskIds.push(task.id);
      byQueue.set(task.queueName, queue);
    }
    this.queues = [...byQueue.values()];
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.listener = new pg.Client({ connectionString: this.options.databaseUrl });
    this.listener.on("notification", () => this.wakeAll());
    // A lost LISTEN connection only costs latency: polling still finds every run.
    this.listener.on("error", (error) =>
      this.options.logger.warn({ err: error }, "Task engine LISTEN connection failed"),
    );
    await this.listener.connect();
    await this.listener.query(`LISTEN ${TASK_RUN_CHANNEL}`);
    this.heartbeat = setInterval(() => void this.extendLeases(), Math.max(250, Math.floor(this.leaseMs / 3)));
    this.loops = this.queues.map((queue) => this.runQueue(queue));
    this.options.logger.info(
      { workerId: this.workerId, queues: this.queues.map((q) => `${q.name} (${q.limit})`) },
      "Embedded task engine started",
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeAll();
    await Promise.all(this.loops);
    const graceful = Promise.all([...this.executions]);
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), this.shutdownGraceMs).unref()),
    ]);
    if (timedOut) {
      for (const queue of this.queues) for (const controller of queue.inFlight.values()) controller.abort();
    }
    clearInterval(this.heartbeat);
    // Whatever is still ours goes back at once instead of waiting out its lease.
    await this.options.db.$executeRaw`
      UPDATE "TaskRun" SET "lockedUntil" = now(), "updatedAt" = now()
      WHERE "lockedBy" = ${this.workerId} AND status = 'EXECUTING'`.catch((error: unknown) =>
      this.options.logger.error({ err: error }, "Releasing task run leases failed"),
    );
    await this.listener?.end().catch(() => undefined);
  }

  private wakeAll(): void {
    for (const queue of this.queues) queue.wake();
  }

  private sleep(queue: QueueState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      queue.wake = done;
    });
  }

  private async runQueue(queue: QueueState): Promise<void> {
    while (this.running) {
      const free = queue.limit - queue.inFlight.size;
      let claimed: ClaimedRun[] = [];
      if (free > 0) {
        try {
          claimed = await this.claim(queue, Math.min(free, this.claimBatchSize));
        } catch (error) {
          this.options.logger.error({ err: error, queue: queue.name }, "Claiming task runs failed; retrying");
          await this.sleep(queue, this.pollIntervalMs);
          continue;
        }
      }
      for (const run of claimed) this.execute(queue, run);
      if (claimed.length === 0 || claimed.length === free) {
        await this.sleep(queue, this.pollIntervalMs);
      }
    }
  }

  /** Claims due runs (and runs whose lease expired) without exceeding the queue's limit across all workers. */
  private claim(queue: QueueState, wanted: number): Promise<ClaimedRun[]> {
    const leaseSeconds = this.leaseMs / 1000;
    return this.options.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`echo-task-queue:${queue.name}`}))`;
      const counts = await tx.$queryRaw<{ running: number }[]>`
        SELECT count(*)::int AS running FROM "TaskRun"
        WHERE "taskId" = ANY(${queue.taskIds}::text[]) AND status = 'EXECUTING' AND "lockedUntil" > now()`;
      const limit = Math.min(wanted, queue.limit - (counts[0]?.running ?? 0));
      if (limit <= 0) return [];
      return tx.$queryRaw<ClaimedRun[]>`
        UPDATE "TaskRun" AS r
        SET status = 'EXECUTING', attempt = r.attempt + 1, "lockedBy" = ${this.workerId},
            "lockedUntil" = now() + make_interval(secs => ${leaseSeconds}), "updatedAt" = now()
        FROM (
          SELECT id FROM "TaskRun"
          WHERE "taskId" = ANY(${queue.taskIds}::text[])
            AND ((status = 'QUEUED' AND "runAt" <= now()) OR (status = 'EXECUTING' AND "lockedUntil" <= now()))
          ORDER BY "runAt"
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE r.id = due.id
        RETURNING r.id, r."taskId", r.payload, r.attempt, r."createdAt", r."idempotencyKey"`;
    });
  }

  private execute(queue: QueueState, run: ClaimedRun): void {
    const task = this.catalog.get(run.taskId);
    if (!task) return;
    const controller = new AbortController();
    queue.inFlight.set(run.id, controller);
    const execution = this.attempt(task, run, controller)
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, runId: run.id }, "Task engine bookkeeping failed"),
      )
      .finally(() => {
        queue.inFlight.delete(run.id);
        this.executions.delete(execution);
        queue.wake();
      });
    this.executions.add(execution);
  }

  private context(task: LoadedTask, run: ClaimedRun) {
    // The fields of Trigger.dev's TaskRunContext that task code commonly reads.
    return {
      task: { id: task.id, filePath: "", exportName: task.id },
      attempt: { number: run.attempt, startedAt: new Date() },
      run: {
        id: run.id,
        createdAt: run.createdAt,
        tags: [],
        isTest: false,
        idempotencyKey: run.idempotencyKey ?? undefined,
        maxDuration: task.maxDurationSeconds,
      },
      queue: { name: task.queueName, id: task.queueName },
      environment: { id: "embedded", slug: "embedded", type: "PRODUCTION" },
      organization: { id: "embedded", slug: "embedded", name: "Echo" },
      project: { id: "embedded", ref: "embedded", slug: "echo", name: "Echo" },
      machine: { name: "embedded", cpu: 0, memory: 0, centsPerMs: 0 },
      worker: { id: this.workerId },
    };
  }

  private async attempt(task: LoadedTask, run: ClaimedRun, controller: AbortController): Promise<void> {
    const ctx = this.context(task, run);
    const maxDuration = task.maxDurationSeconds
      ? setTimeout(
          () => controller.abort(new Error(`Exceeded maxDuration of ${task.maxDurationSeconds} s`)),
          task.maxDurationSeconds * 1000,
        )
      : undefined;
    try {
      await task.run(run.payload, { ctx, signal: controller.signal });
      await this.options.db.$executeRaw`
        UPDATE "TaskRun" SET status = 'COMPLETED', "completedAt" = now(), "lockedUntil" = NULL, "lastError" = NULL, "updatedAt" = now()
        WHERE id = ${run.id} AND "lockedBy" = ${this.workerId}`;
    } catch (error) {
      await this.handleError(task, run, ctx, controller.signal, error);
    } finally {
      clearTimeout(maxDuration);
    }
  }

  private async handleError(
    task: LoadedTask,
    run: ClaimedRun,
    ctx: ReturnType<EmbeddedTaskEngine["context"]>,
    signal: AbortSignal,
    error: unknown,
  ): Promise<void> {
    const retry = task.retry ?? DEFAULT_TASK_RETRY;
    const maxAttempts = retry.maxAttempts ?? DEFAULT_TASK_RETRY.maxAttempts ?? 3;
    let delayMs: number | undefined =
      error instanceof AbortTaskRunError || run.attempt >= maxAttempts
        ? undefined
        : calculateNextRetryDelay(retry, run.attempt);

    if (task.catchError && !(error instanceof AbortTaskRunError)) {
      const decision = (await task.catchError({
        ctx,
        payload: run.payload,
        task: task.id,
        error,
        retry,
        retryAt: delayMs === undefined ? undefined : new Date(Date.now() + delayMs),
        retryDelayInMs: delayMs,
        signal,
      })) as { skipRetrying?: boolean; retryAt?: Date; retryDelayInMs?: number } | undefined;
      if (decision?.skipRetrying) delayMs = undefined;
      else if (run.attempt < maxAttempts && decision?.retryAt)
        delayMs = Math.max(0, decision.retryAt.getTime() - Date.now());
      else if (run.attempt < maxAttempts && decision?.retryDelayInMs !== undefined)
        delayMs = Math.max(0, decision.retryDelayInMs);
    }

    const message = errorMessage(error);
    if (delayMs !== undefined) {
      const delaySeconds = delayMs / 1000;
      await this.options.db.$executeRaw`
        UPDATE "TaskRun" SET status = 'QUEUED', "runAt" = now() + make_interval(secs => ${delaySeconds}),
          "lockedUntil" = NULL, "lockedBy" = NULL, "lastError" = ${message}, "updatedAt" = now()
        WHERE id = ${run.id} AND "lockedBy" = ${this.workerId}`;
      this.options.logger.debug(
        { taskId: task.id, runId: run.id, attempt: run.attempt, delayMs },
        "Task run will retry",
      );
      return;
    }
    await this.options.db.$executeRaw`
      UPDATE "TaskRun" SET status = 'FAILED', "completedAt" = now(), "lockedUntil" = NULL, "lastError" = ${message}, "updatedAt" = now()
      WHERE id = ${run.id} AND "lockedBy" = ${this.workerId}`;
    this.options.logger.warn(
      { taskId: task.id, runId: run.id, attempt: run.attempt, error: message },
      "Task run failed",
    );
    if (task.onFailure) {
      await Promise.resolve(task.onFailure({ ctx, payload: run.payload, task: task.id, error, signal })).catch(
        (hookError: unknown) => this.options.logger.error({ err: hookError, runId: run.id }, "onFailure hook threw"),
      );
    }
  }

  private async extendLeases(): Promise<void> {
    const ids = this.queues.flatMap((queue) => [...queue.inFlight.keys()]);
    if (ids.length === 0) return;
    const leaseSeconds = this.leaseMs / 1000;
    await this.options.db.$executeRaw`
      UPDATE "TaskRun" SET "lockedUntil" = now() + make_interval(secs => ${leaseSeconds})
      WHERE id = ANY(${ids}::text[]) AND "lockedBy" = ${this.workerId} AND status = 'EXECUTING'`.catch(
      (error: unknown) => this.options.logger.error({ err: error }, "Extending task run leases failed"),
    );
  }
}
