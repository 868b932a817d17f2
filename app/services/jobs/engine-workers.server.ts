import os from "node:os";
import { z } from "zod";
import type { Database } from "~/db.server";
import { sqlOn } from "~/services/database/sql.server";

/** How often a worker reports itself; one that has not for WORKER_ALIVE_MS is presumed gone. */
export const WORKER_HEARTBEAT_MS = 5_000;
export const WORKER_ALIVE_MS = 3 * WORKER_HEARTBEAT_MS;
/** A worker silent this long is forgotten (its row deleted by the next heartbeat of any worker). */
const FORGET_AFTER_MS = 60 * 60_000;

/**
 * A queue as a worker runs it. `scope` says where `limit` and `perKey` hold: `global` across every
 * worker (the TaskRun queues claim under a shared advisory lock), `process` in each worker (the
 * delivery queue, ADR 011: N workers give N × the limits).
 */
export const WorkerQueueSchema = z.object({
  name: z.string(),
  taskIds: z.array(z.string()),
  limit: z.number().int(),
  perKey: z.number().int().nullable(),
  scope: z.enum(["global", "process"]),
});
export type WorkerQueue = z.infer<typeof WorkerQueueSchema>;

const WorkerQueuesSchema = z.array(WorkerQueueSchema);

export type EngineWorkerRow = {
  id: string;
  hostname: string;
  pid: number;
  startedAt: Date;
  heartbeatAt: Date;
  queues: WorkerQueue[];
  alive: boolean;
};

/** Writes (or refreshes) this worker's row, and forgets workers silent for an hour. */
export async function reportEngineWorker(
  db: Database,
  worker: { id: string; startedAt: Date; queues: WorkerQueue[] },
): Promise<void> {
  await sqlOn(
    db,
    `WITH forgotten AS (
       DELETE FROM "EngineWorker" WHERE "heartbeatAt" < now() - make_interval(secs => $6::float8 / 1000) AND id <> $1
     )
     INSERT INTO "EngineWorker" (id, hostname, pid, "startedAt", "heartbeatAt", queues)
     VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000) AT TIME ZONE 'UTC', now(), $5::jsonb)
     ON CONFLICT (id) DO UPDATE SET "heartbeatAt" = now(), queues = EXCLUDED.queues`,
    // Times travel as epoch milliseconds, stored as Prisma stores them (UTC), whatever the process's time zone.
    [worker.id, os.hostname(), process.pid, worker.startedAt.getTime(), JSON.stringify(worker.queues), FORGET_AFTER_MS],
  );
}

/** A stopping worker says so at once, rather than being presumed alive for WORKER_ALIVE_MS. */
export async function removeEngineWorker(db: Database, id: string): Promise<void> {
  await sqlOn(db, `DELETE FROM "EngineWorker" WHERE id = $1`, [id]);
}

/** Every worker that reported in the last hour, newest first, with whether it is alive now. */
export async function listEngineWorkers(db: Database): Promise<EngineWorkerRow[]> {
  const { rows } = await sqlOn<Omit<EngineWorkerRow, "queues"> & { queues: unknown }>(
    db,
    `SELECT id, hostname, pid, "startedAt", "heartbeatAt", queues,
            "heartbeatAt" >= now() - make_interval(secs => $1::float8 / 1000) AS alive
     FROM "EngineWorker" ORDER BY "startedAt" DESC, id`,
    [WORKER_ALIVE_MS],
  );
  return rows.map((row) => {
    const queues = WorkerQueuesSchema.safeParse(row.queues);
    return { ...row, queues: queues.success ? queues.data : [] };
  });
}
