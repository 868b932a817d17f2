-- On the embedded engine the delivery row is its own queue entry (ADR 011): a worker claims
-- due deliveries straight from this table instead of a TaskRun per delivery.

-- The worker whose claim holds a SENDING delivery's lease (shown to operators; not indexed,
-- so a claim stays a HOT update).
ALTER TABLE "WebhookDelivery" ADD COLUMN "lockedBy" TEXT;

-- Open deliveries in due order: the claim reads the front of this index and stops after what
-- it takes, however many finished deliveries the table holds. A claim changes neither column,
-- so it stays a HOT update; the record that finishes or reschedules a delivery does not.
-- A NULL nextAttemptAt is an open delivery that waits to be released (a paused endpoint's, or
-- a test send being made in a request).
CREATE INDEX "WebhookDelivery_open_nextAttemptAt_idx" ON "WebhookDelivery"("nextAttemptAt")
  WHERE "completedAt" IS NULL;

-- Retention deletes by age: rows are appended in createdAt order, so a BRIN index finds the
-- oldest pages for a few kilobytes and adds almost nothing to each insert.
CREATE INDEX "WebhookDelivery_createdAt_idx" ON "WebhookDelivery" USING BRIN ("createdAt");

-- The runs that used to queue deliveries are superseded by the deliveries themselves, which
-- the new worker sends whatever state their runs were in.
UPDATE "TaskRun"
SET status = 'COMPLETED', "completedAt" = now(), "lockedUntil" = NULL, "updatedAt" = now(),
    "lastError" = 'Superseded: the delivery row is its own queue entry since migration 20261205210000'
WHERE "taskId" = 'webhook-delivery' AND status IN ('QUEUED', 'EXECUTING');
