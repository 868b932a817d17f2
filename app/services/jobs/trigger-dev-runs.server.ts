import type { Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import type { TriggeredRun } from "~/services/jobs.server";

/**
 * Keeps, on the event or delivery that triggered it, the Trigger.dev run (or batch) that took it,
 * so the runs console can link to it. One statement for any number of rows; rows with nothing to
 * record (the embedded engine) are skipped. Neither column is indexed: a delivery's update stays HOT.
 */
export async function recordTriggerDevRuns(
  db: Database | Prisma.TransactionClient,
  table: "WebhookEvent" | "WebhookDelivery",
  rows: (TriggeredRun & { id: string })[],
): Promise<void> {
  const recorded = rows.filter((row) => row.runId || row.batchId);
  if (recorded.length === 0) return;
  await db.$executeRawUnsafe(
    `UPDATE "${table}" AS target SET "triggerRunId" = t.run_id, "triggerBatchId" = t.batch_id
     FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, run_id, batch_id)
     WHERE target.id = t.id`,
    recorded.map((row) => row.id),
    recorded.map((row) => row.runId),
    recorded.map((row) => row.batchId),
  );
}
