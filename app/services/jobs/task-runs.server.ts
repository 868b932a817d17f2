import { randomUUID } from "node:crypto";
import { findPool, type Database } from "~/db.server";
import { sql } from "~/services/database/sql.server";
import type { Prisma } from "~/generated/prisma/client";

export const TASK_RUN_CHANNEL = "echo_task_runs";

/**
 * A notification names the tasks that have new runs (comma-separated), so only the queues
 * that run them claim; an empty payload wakes every queue.
 */
export function wakePayload(taskIds: string[]): string {
  return [...new Set(taskIds)].join(",");
}

export type NewTaskRun = {
  /** The run's id, when the caller needs to know it (a random UUID otherwise). */
  id?: string;
  taskId: string;
  payload: unknown;
  /** Runs with the same task and key are created once; later triggers are no-ops. */
  idempotencyKey?: string;
  concurrencyKey?: string;
  delayMs?: number;
};

/**
 * Queues runs for the embedded engine in one statement, and wakes idle workers. Pass a
 * transaction client to make the runs part of a larger atomic write: they then run in that
 * transaction, never beside it on the pool.
 */
export async function enqueueTaskRuns(db: Database | Prisma.TransactionClient, runs: NewTaskRun[]): Promise<number> {
  if (runs.length === 0) return 0;
  const ids = runs.map((run) => run.id ?? randomUUID());
  const taskIds = runs.map((run) => run.taskId);
  const payloads = runs.map((run) => JSON.stringify(run.payload ?? null));
  const idempotencyKeys = runs.map((run) => run.idempotencyKey ?? null);
  const concurrencyKeys = runs.map((run) => run.concurrencyKey ?? null);
  const delays = runs.map((run) => Math.max(0, run.delayMs ?? 0) / 1000);
  // One statement inserts the runs and wakes the workers (a notification is sent at commit).
  const text = `
    WITH inserted AS (
      INSERT INTO "TaskRun" ("id", "taskId", "payload", "idempotencyKey", "concurrencyKey", "runAt", "updatedAt")
      SELECT id, task_id, payload::jsonb, idempotency_key, concurrency_key, now() + make_interval(secs => delay), now()
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[])
        AS t(id, task_id, payload, idempotency_key, concurrency_key, delay)
      ON CONFLICT ("taskId", "idempotencyKey") DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM inserted)::int AS inserted FROM (SELECT pg_notify($7, $8)) AS notified`;
  const values = [
    ids,
    taskIds,
    payloads,
    idempotencyKeys,
    concurrencyKeys,
    delays,
    TASK_RUN_CHANNEL,
    wakePayload(taskIds),
  ];
  // A transaction client has no pool of its own: the runs must be part of its transaction.
  const pool = findPool(db);
  const [row] = pool
    ? (await sql<{ inserted: number }>(pool, text, values)).rows
    : await db.$queryRawUnsafe<{ inserted: number }[]>(text, ...values);
  return row?.inserted ?? 0;
}
