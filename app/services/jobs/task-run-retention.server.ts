import { prisma, type Database } from "~/db.server";
import { logger } from "~/logger.server";
import { sqlOn } from "~/services/database/sql.server";
import { runPeriodically } from "./periodic.server";

const DELETE_BATCH_SIZE = 5_000;

/**
 * Deletes the embedded engine's finished runs (COMPLETED, FAILED or CANCELLED), with their attempts, that finished more than
 * `retentionDays` ago, in batches so no statement holds many row locks for long. A run is
 * bookkeeping: what a user sees (events, deliveries, every attempt) lives in its own rows,
 * and every task is idempotent against those rows, so a trigger repeated after its run is
 * gone runs again harmlessly. Trigger.dev keeps idempotency keys for 30 days by default;
 * the default retention matches it. Live runs (QUEUED, EXECUTING) are never touched.
 */
export async function deleteFinishedTaskRuns(
  { retentionDays, batchSize = DELETE_BATCH_SIZE }: { retentionDays: number; batchSize?: number },
  db: Database = prisma,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await sqlOn(
      db,
      `WITH doomed AS (
         SELECT id FROM "TaskRun"
         WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED') AND "completedAt" < now() - make_interval(days => $1::int)
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       DELETE FROM "TaskRun" AS run USING doomed WHERE run.id = doomed.id`,
      [retentionDays, batchSize],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return deleted;
  }
}

/** Runs deleteFinishedTaskRuns every `intervalMs` (the first time one interval after start). */
export function startTaskRunRetention({
  retentionDays,
  intervalMs,
  db = prisma,
}: {
  retentionDays: number;
  intervalMs: number;
  db?: Database;
}): () => Promise<void> {
  return runPeriodically({
    name: "Deleting old task runs",
    intervalMs,
    work: async () => {
      const count = await deleteFinishedTaskRuns({ retentionDays }, db);
      if (count > 0) logger.info({ count, retentionDays }, "Deleted finished task runs past their retention");
    },
  });
}
