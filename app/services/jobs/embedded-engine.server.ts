import { randomUUID } from "node:crypto";
import { calculateNextRetryDelay, type RetryOptions } from "@trigger.dev/core/v3";
import { AbortTaskRunError } from "@trigger.dev/sdk";
import pg from "pg";
import type { Logger } from "pino";
import type { Database } from "~/db.server";
import { literal, numberLiteral, sqlOn, sqlScript } from "~/services/database/sql.server";
import { DeliveryQueueWorker } from "./delivery-queue-worker.server";
import { WORKER_HEARTBEAT_MS, removeEngineWorker, reportEngineWorker, type WorkerQueue } from "./engine-workers.server";
import type { EmbeddedExecutors, ExecutorOutcome } from "./embedded-executors.server";
import { GroupCommit } from "./group-commit.server";
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
  /**
   * Embedded-only implementations of some tasks that batch their database work with other
   * runs (see embedded-executors.server.ts); by default the built-in ones. Pass an empty map
   * to run every task's own `run`.
   */
  executors?: EmbeddedExecutors;
  /**
   * Run the `webhook-delivery` task from the WebhookDelivery rows themselves (ADR 011) when the
   * catalog defines it. On by default; its TaskRun queue is then not run.
   */
  deliveryQueue?: boolean;
};

/** The task whose runs are the delivery rows themselves on this engine (ADR 011). */
export const ROW_QUEUED_TASK_ID = "webhook-delivery";

type ClaimedRun = {
  id: string;
  taskId: string;
  payload: unknown;
  attempt: number;
  createdAt: Date;
  idempotencyKey: string | null;
  /** When this attempt started (the claim's time). */
  startedAt: Date;
};

type QueueState = {
  name: string;
  limit: number;
  /** Smallest `concurrency.perKey` of the queue's tasks, if any: a limit per concurrencyKey. */
  perKey: number | undefined;
  taskIds: string[];
  inFlight: Map<string, AbortController>;
  wake: () => void;
  /** A wake-up that came while the loop was busy: the next sleep returns at once. */
  woken: boolean;
};

/** How many due runs a claim looks at beyond the ones it takes, to skip keys at their limit. */
const CLAIM_SCAN_FACTOR = 2;

function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 4000);
  return String(error).slice(0, 4000);
}

/** The stack of what an attempt threw, for the runs console (bounded: a deep stack is not worth megabytes). */
function errorStack(error: unknown): string | null {
  return error instanceof Error && typeof error.stack === "string" ? error.stack.slice(0, 16_000) : null;
}

/**
 * Each ended attempt is written by the statement that records its run's new state: `$workerId` is
 * the worker whose lease the attempt held, the CTE `ended` returns the run's id, attempt, start and end.
 */
const RECORD_ATTEMPT_SQL = (outcome: "COMPLETED" | "RETRYING" | "FAILED", values: string) => `
  INSERT INTO "TaskRunAttempt" ("runId", "attemptNumber", "startedAt", "endedAt", outcome, "workerId", error, stack, "nextRetryAt")
  SELECT ended.id, ended.attempt, COALESCE(ended."attemptStartedAt", ended."endedAt"), ended."endedAt", '${outcome}', ${values}
  FROM ended
  ON CONFLICT ("runId", "attemptNumber") DO NOTHING`;

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
  private report: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date();
  private listener: pg.Client | undefined;
  private relisten: NodeJS.Timeout | undefined;
  private readonly executions = new Set<Promise<void>>();
  private executors: EmbeddedExecutors = new Map();
  /** Sends webhook deliveries straight from their rows; undefined when the catalog has no webhook-delivery task. */
  readonly deliveries: DeliveryQueueWorker | undefined;
  /** Successful runs are marked COMPLETED together, one statement per batch. */
  private readonly completions = new GroupCommit<string, void>((ids) => this.completeRuns(ids));

  constructor(
    private readonly catalog: TaskCatalog,
    private readonly options: EngineOptions,
  ) {
    this.workerId = options.workerId ?? `worker-${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.claimBatchSize = options.claimBatchSize ?? 100;
    this.shutdownGraceMs = options.shutdownGraceMs ?? 10_000;

    const deliveryTask = options.deliveryQueue === false ? undefined : catalog.get(ROW_QUEUED_TASK_ID);
    this.deliveries = deliveryTask
      ? new DeliveryQueueWorker({
          db: options.db,
          logger: options.logger,
          workerId: this.workerId,
          limit: deliveryTask.concurrencyLimit,
          perTarget: deliveryTask.concurrencyPerKey ?? deliveryTask.concurrencyLimit,
          pollIntervalMs: this.pollIntervalMs,
          shutdownGraceMs: this.shutdownGraceMs,
        })
      : undefined;

    const byQueue = new Map<string, QueueState>();
    for (const task of catalog.values()) {
      if (task === deliveryTask) continue;
      const queue: QueueState = byQueue.get(task.queueName) ?? {
        name: task.queueName,
        limit: task.concurrencyLimit,
        perKey: undefined,
        taskIds: [],
        inFlight: new Map(),
        wake: () => undefined,
        woken: false,
      };
      queue.limit = Math.min(queue.limit, task.concurrencyLimit);
      if (task.concurrencyPerKey !== undefined)
        queue.perKey = Math.min(queue.perKey ?? Infinity, task.concurrencyPerKey);
      queue.taskIds.push(task.id);
      byQueue.set(task.queueName, queue);
    }
    this.queues = [...byQueue.values()];
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.executors = this.options.executors ?? (await import("./embedded-executors.server")).defaultEmbeddedExecutors();
    await this.listen();
    this.heartbeat = setInterval(() => void this.extendLeases(), Math.max(250, Math.floor(this.leaseMs / 3)));
    this.loops = this.queues.map((queue) => this.runQueue(queue));
    this.deliveries?.start();
    // The runs console reads the queues' limits and which workers are alive from these reports.
    await this.reportSelf();
    this.report = setInterval(() => void this.reportSelf(), WORKER_HEARTBEAT_MS);
    this.report.unref();
    this.options.logger.info(
      {
        workerId: this.workerId,
        queues: this.queues.map((q) => `${q.name} (${q.limit})`),
        deliveries: this.deliveries
          ? `from WebhookDelivery (${this.deliveries.state().limit}, ${this.deliveries.state().perTarget} per target)`
          : undefined,
      },
      "Embedded task engine started",
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeAll();
    await Promise.all([...this.loops, this.deliveries?.stop()]);
    const graceful = Promise.all([...this.executions]);
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), this.shutdownGraceMs).unref()),
    ]);
    if (timedOut) {
      for (const queue of this.queues) for (const controller of queue.inFlight.values()) controller.abort();
    }
    clearInterval(this.heartbeat);
    clearInterval(this.report);
    await removeEngineWorker(this.options.db, this.workerId).catch((error: unknown) =>
      this.options.logger.warn({ err: error }, "Removing this worker's report failed"),
    );
    // Whatever is still ours goes back at once instead of waiting out its lease.
    await sqlOn(
      this.options.db,
      `UPDATE "TaskRun" SET "lockedUntil" = now(), "updatedAt" = now() WHERE "lockedBy" = $1 AND status = 'EXECUTING'`,
      [this.workerId],
    ).catch((error: unknown) => this.options.logger.error({ err: error }, "Releasing task run leases failed"));
    clearTimeout(this.relisten);
    await this.listener?.end().catch(() => undefined);
  }

  /** The queues this worker runs, with their limits, as the runs console shows them. */
  describeQueues(): WorkerQueue[] {
    const queues: WorkerQueue[] = this.queues.map((queue) => ({
      name: queue.name,
      taskIds: [...queue.taskIds],
      limit: queue.limit,
      perKey: queue.perKey ?? null,
      scope: "global",
    }));
    if (this.deliveries) {
      const { limit, perTarget } = this.deliveries.state();
      queues.push({
        name: ROW_QUEUED_TASK_ID,
        taskIds: [ROW_QUEUED_TASK_ID],
        limit,
        perKey: perTarget,
        scope: "process",
      });
    }
    return queues;
  }

  private async reportSelf(): Promise<void> {
    await reportEngineWorker(this.options.db, {
      id: this.workerId,
      startedAt: this.startedAt,
      queues: this.describeQueues(),
    }).catch((error: unknown) => this.options.logger.warn({ err: error }, "Reporting this worker failed"));
  }

  /**
   * A dedicated connection LISTENs for new runs. Losing it (PostgreSQL restarted, the
   * connection cut) only costs latency, since polling still finds every run; it is opened
   * again with a growing delay, so workers react at once again after the database is back.
   */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on("notification", (message) => this.wakeFor(message.payload));
    client.on("error", (error) => this.options.logger.warn({ err: error }, "Task engine LISTEN connection failed"));
    let listening = false;
    // A client that never connected is retried by the caller, with a longer delay each time.
    client.on("end", () => {
      if (listening && this.running && this.listener === client) this.listenAgain(0);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${TASK_RUN_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    listening = true;
  }

  private listenAgain(failures: number): void {
    if (!this.running || this.relisten) return;
    this.relisten = setTimeout(
      () => {
        this.relisten = undefined;
        if (!this.running) return;
        this.listen().then(
          () => {
            this.options.logger.info("Task engine LISTEN connection restored");
            // Runs queued while we were deaf are due now.
            this.wakeAll();
          },
          (error: unknown) => {
            this.options.logger.warn({ err: error }, "Task engine LISTEN reconnect failed; trying again");
            this.listenAgain(failures + 1);
          },
        );
      },
      Math.min(30_000, 250 * 2 ** failures),
    );
    this.relisten.unref();
  }

  private wakeAll(): void {
    for (const queue of this.queues) queue.wake();
    this.deliveries?.wake();
  }

  /** A notification's payload names the tasks with new runs (see wakePayload); none means all. */
  private wakeFor(payload: string | undefined): void {
    if (!payload) return this.wakeAll();
    const taskIds = payload.split(",");
    for (const queue of this.queues) if (queue.taskIds.some((id) => taskIds.includes(id))) queue.wake();
    if (taskIds.includes(ROW_QUEUED_TASK_ID)) this.deliveries?.wake();
  }

  private sleep(queue: QueueState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (queue.woken || !this.running) {
        queue.woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        queue.wake = () => {
          queue.woken = true;
        };
        resolve();
      }
      queue.wake = done;
    });
  }

  private async runQueue(queue: QueueState): Promise<void> {
    // A wake-up that arrives while the loop claims must not be lost (it would cost a poll interval).
    queue.wake = () => {
      queue.woken = true;
    };
    // Claiming is a transaction: with runs in flight, wait until a useful number of slots is free.
    const minClaim = Math.max(1, Math.min(this.claimBatchSize, Math.floor(queue.limit / 4)));
    while (this.running) {
      queue.woken = false;
      const free = queue.limit - queue.inFlight.size;
      let claimed: ClaimedRun[] = [];
      if (free >= minClaim || (free > 0 && queue.inFlight.size === 0)) {
        try {
          claimed = await this.claim(queue, Math.min(free, this.claimBatchSize));
        } catch (error) {
          this.options.logger.error({ err: error, queue: queue.name }, "Claiming task runs failed; retrying");
          await this.sleep(queue, this.pollIntervalMs);
          continue;
        }
      }
      for (const run of claimed) this.execute(queue, run);
      if (claimed.length === 0 || claimed.length === free || free < minClaim) {
        await this.sleep(queue, this.pollIntervalMs);
      }
    }
  }

  /**
   * Claims due runs (and runs whose lease expired) without exceeding the queue's limit across
   * all workers, nor `perKey` runs of one concurrencyKey: a key at its limit (a receiver that
   * hangs) is skipped, and the runs behind it go ahead.
   */
  private claim(queue: QueueState, wanted: number): Promise<ClaimedRun[]> {
    const leaseSeconds = this.leaseMs / 1000;
    const perKey = queue.perKey ?? queue.limit;
    const scan = wanted * CLAIM_SCAN_FACTOR;
    // A queue usually runs one task: with `=` (not `= ANY`) PostgreSQL reads queued runs in runAt
    // order from (status, taskId, runAt) and stops after the ones it takes, however long the backlog.
    const ofQueue =
      queue.taskIds.length === 1
        ? `"taskId" = ${literal(queue.taskIds[0]!)}`
        : `"taskId" = ANY(ARRAY[${queue.taskIds.map(literal).join(", ")}]::text[])`;
    // One round trip: the lock and the claim run as one transaction, the claim's snapshot taken after the lock.
    return sqlScript<ClaimedRun>(this.options.db, [
      `SELECT pg_advisory_xact_lock(hashtext(${literal(`echo-task-queue:${queue.name}`)}))`,
      `WITH running AS (
          SELECT "concurrencyKey" AS key, count(*)::int AS n FROM "TaskRun"
          WHERE ${ofQueue} AND status = 'EXECUTING' AND "lockedUntil" > now()
          GROUP BY 1
        ), budget AS (
          SELECT GREATEST(0, LEAST(${numberLiteral(wanted)}, ${numberLiteral(queue.limit)} - COALESCE((SELECT sum(n) FROM running), 0)::int)) AS n
        ), due AS (
          (SELECT id, "concurrencyKey" AS key, "runAt" FROM "TaskRun" t
           WHERE status = 'QUEUED' AND "runAt" <= now() AND ${ofQueue}
             AND NOT EXISTS (SELECT 1 FROM running r WHERE r.key IS NOT DISTINCT FROM t."concurrencyKey" AND r.n >= ${numberLiteral(perKey)})
           ORDER BY "runAt" LIMIT ${numberLiteral(scan)})
          UNION ALL
          (SELECT id, "concurrencyKey" AS key, "runAt" FROM "TaskRun" t
           WHERE status = 'EXECUTING' AND "lockedUntil" <= now() AND ${ofQueue}
             AND NOT EXISTS (SELECT 1 FROM running r WHERE r.key IS NOT DISTINCT FROM t."concurrencyKey" AND r.n >= ${numberLiteral(perKey)})
           ORDER BY "lockedUntil" LIMIT ${numberLiteral(scan)})
        ), ranked AS (
          SELECT due.id, due."runAt",
                 row_number() OVER (PARTITION BY due.key ORDER BY due."runAt") + COALESCE(r.n, 0) AS slot
          FROM due LEFT JOIN running r ON r.key IS NOT DISTINCT FROM due.key
        ), picked AS (
          SELECT id FROM ranked WHERE slot <= ${numberLiteral(perKey)} ORDER BY "runAt" LIMIT (SELECT n FROM budget)
        ), claimed AS (
          UPDATE "TaskRun" AS r
          SET status = 'EXECUTING', attempt = r.attempt + 1, "lockedBy" = ${literal(this.workerId)},
              "lockedUntil" = now() + make_interval(secs => ${numberLiteral(leaseSeconds)}), "attemptStartedAt" = now(),
              "updatedAt" = now()
          FROM picked
          WHERE r.id = picked.id
            AND ((r.status = 'QUEUED' AND r."runAt" <= now()) OR (r.status = 'EXECUTING' AND r."lockedUntil" <= now()))
          RETURNING r.id, r."taskId", r.payload, r.attempt, r."createdAt", r."idempotencyKey", r."attemptStartedAt" AS "startedAt"
        ), interrupted AS (
          -- A run taken back from a lapsed lease: its previous attempt never ended (the statement's snapshot
          -- still shows the run as it was before this claim).
          INSERT INTO "TaskRunAttempt" ("runId", "attemptNumber", "startedAt", "endedAt", outcome, "workerId", error)
          SELECT before.id, before.attempt, COALESCE(before."attemptStartedAt", before."updatedAt"), before."lockedUntil",
                 'INTERRUPTED', before."lockedBy",
                 'Interrupted: its worker stopped renewing the lease before the attempt ended (it was stopped, killed or cut off from the database); the run was claimed again.'
          FROM "TaskRun" before JOIN claimed ON claimed.id = before.id
          WHERE before.status = 'EXECUTING' AND before.attempt > 0
          ON CONFLICT ("runId", "attemptNumber") DO NOTHING
        )
        SELECT * FROM claimed`,
    ]);
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
      const executor = this.executors.get(task.id);
      if (executor) {
        const outcome = await executor(run.payload, { signal: controller.signal });
        await this.settle(task, run, ctx, controller.signal, outcome);
        return;
      }
      await task.run(run.payload, { ctx, signal: controller.signal });
      await this.completions.add(run.id);
    } catch (error) {
      await this.handleError(task, run, ctx, controller.signal, error);
    } finally {
      clearTimeout(maxDuration);
    }
  }

  /** Applies an executor's outcome exactly as the task's own run + catchError would have. */
  private async settle(
    task: LoadedTask,
    run: ClaimedRun,
    ctx: ReturnType<EmbeddedTaskEngine["context"]>,
    signal: AbortSignal,
    outcome: ExecutorOutcome,
  ): Promise<void> {
    const maxAttempts = (task.retry ?? DEFAULT_TASK_RETRY).maxAttempts ?? DEFAULT_TASK_RETRY.maxAttempts ?? 3;
    if (outcome.kind === "completed") return this.completions.add(run.id);
    if (outcome.kind === "abort") {
      const abort = new AbortTaskRunError(outcome.reason);
      // The executor's own error says where it came from.
      if (outcome.error?.stack) abort.stack = outcome.error.stack;
      return this.handleError(task, run, ctx, signal, abort);
    }
    if (run.attempt >= maxAttempts) return this.handleError(task, run, ctx, signal, new Error(outcome.reason));
    const delaySeconds = Math.max(0, outcome.retryAt.getTime() - Date.now()) / 1000;
    await this.requeue(run, delaySeconds, outcome.reason, null);
  }

  /** Queues the run again for its next attempt, and records the attempt that ended. */
  private async requeue(run: ClaimedRun, delaySeconds: number, reason: string, stack: string | null): Promise<void> {
    await sqlOn(
      this.options.db,
      `WITH ended AS (
         UPDATE "TaskRun" SET status = 'QUEUED', "runAt" = now() + make_interval(secs => $1::float8),
           "lockedUntil" = NULL, "lockedBy" = NULL, "lastError" = $2, "updatedAt" = now()
         WHERE id = $3 AND "lockedBy" = $4
         RETURNING id, attempt, "attemptStartedAt", "updatedAt" AS "endedAt", "runAt"
       )
       ${RECORD_ATTEMPT_SQL("RETRYING", `$4, $2, $5, ended."runAt"`)}`,
      [delaySeconds, reason, run.id, this.workerId, stack],
    );
  }

  private async completeRuns(ids: string[]): Promise<void[]> {
    await sqlOn(
      this.options.db,
      `WITH ended AS (
         UPDATE "TaskRun" SET status = 'COMPLETED', "completedAt" = now(), "lockedUntil" = NULL, "lastError" = NULL,
           "updatedAt" = now()
         WHERE id = ANY($1::text[]) AND "lockedBy" = $2
         RETURNING id, attempt, "attemptStartedAt", "completedAt" AS "endedAt"
       )
       ${RECORD_ATTEMPT_SQL("COMPLETED", `$2, NULL, NULL, NULL`)}`,
      [ids, this.workerId],
    );
    return ids.map(() => undefined);
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
    const stack = errorStack(error);
    if (delayMs !== undefined) {
      const delaySeconds = delayMs / 1000;
      await this.requeue(run, delaySeconds, message, stack);
      this.options.logger.debug(
        { taskId: task.id, runId: run.id, attempt: run.attempt, delayMs },
        "Task run will retry",
      );
      return;
    }
    await sqlOn(
      this.options.db,
      `WITH ended AS (
         UPDATE "TaskRun" SET status = 'FAILED', "completedAt" = now(), "lockedUntil" = NULL, "lastError" = $1,
           "updatedAt" = now()
         WHERE id = $2 AND "lockedBy" = $3
         RETURNING id, attempt, "attemptStartedAt", "completedAt" AS "endedAt"
       )
       ${RECORD_ATTEMPT_SQL("FAILED", `$3, $1, $4, NULL`)}`,
      [message, run.id, this.workerId, stack],
    );
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
    await sqlOn(
      this.options.db,
      `UPDATE "TaskRun" SET "lockedUntil" = now() + make_interval(secs => $1::float8)
       WHERE id = ANY($2::text[]) AND "lockedBy" = $3 AND status = 'EXECUTING'`,
      [leaseSeconds, ids, this.workerId],
    ).catch((error: unknown) => this.options.logger.error({ err: error }, "Extending task run leases failed"));
  }
}
