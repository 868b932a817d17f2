-- The runs console (ADR 012): every attempt of an embedded-engine run, cancellation, who replayed or
-- cancelled what, the workers and their queues, and the Trigger.dev run behind an event or delivery.

-- A queued run cancelled from the console; the claim only takes QUEUED (or lease-expired EXECUTING) runs.
ALTER TYPE "TaskRunStatus" ADD VALUE 'CANCELLED';

-- When the attempt in progress started (the claim sets it), so the console can show it and the
-- record of an interrupted attempt can say when it began.
ALTER TABLE "TaskRun" ADD COLUMN "attemptStartedAt" TIMESTAMP(3);

-- The console lists one task's runs in one status newest first, a page at a time (a keyset on
-- createdAt, id). TaskRun's updates change `status`, so they are not HOT anyway; this adds one
-- index entry per update, not a new kind of write.
CREATE INDEX "TaskRun_taskId_status_createdAt_id_idx" ON "TaskRun"("taskId", "status", "createdAt", "id");

CREATE TYPE "TaskRunAttemptOutcome" AS ENUM ('COMPLETED', 'RETRYING', 'FAILED', 'INTERRUPTED');

-- One row per ended attempt, written by the statement that records the run's new state.
CREATE TABLE "TaskRunAttempt" (
    "runId" TEXT NOT NULL,
    "attemptNumber" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3) NOT NULL,
    "outcome" "TaskRunAttemptOutcome" NOT NULL,
    "workerId" TEXT,
    "error" TEXT,
    "stack" TEXT,
    "nextRetryAt" TIMESTAMP(3),

    CONSTRAINT "TaskRunAttempt_pkey" PRIMARY KEY ("runId", "attemptNumber")
);

ALTER TABLE "TaskRunAttempt" ADD CONSTRAINT "TaskRunAttempt_runId_fkey" FOREIGN KEY ("runId") REFERENCES "TaskRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Each embedded-engine process reports itself and its queues' limits every few seconds.
CREATE TABLE "EngineWorker" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,
    "queues" JSONB NOT NULL,

    CONSTRAINT "EngineWorker_pkey" PRIMARY KEY ("id")
);

CREATE TYPE "RunActionKind" AS ENUM ('REPLAY', 'CANCEL');

CREATE TABLE "RunAction" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "kind" "RunActionKind" NOT NULL,
    "resultRunId" TEXT,
    "actorId" TEXT,
    "actorEmail" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RunAction_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "RunAction_runId_createdAt_idx" ON "RunAction"("runId", "createdAt");
CREATE INDEX "RunAction_resultRunId_idx" ON "RunAction"("resultRunId");

ALTER TABLE "RunAction" ADD CONSTRAINT "RunAction_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- A delivery cancelled from the console is FAILED, with cancelledAt = completedAt. No index: the
-- claim and the record must stay HOT updates (tests/integration/hot-updates.test.ts).
ALTER TABLE "WebhookDelivery" ADD COLUMN "cancelledAt" TIMESTAMP(3);

-- Trigger.dev: the run (or, for a batch, the batch) that took the event or the delivery.
ALTER TABLE "WebhookDelivery" ADD COLUMN "triggerRunId" TEXT,
ADD COLUMN "triggerBatchId" TEXT;
ALTER TABLE "WebhookEvent" ADD COLUMN "triggerRunId" TEXT,
ADD COLUMN "triggerBatchId" TEXT;

-- The console lists deliveries (as webhook-delivery runs) newest first by a keyset on (createdAt, id):
-- neither column ever changes, so claims and records stay HOT updates.
CREATE INDEX "WebhookDelivery_createdAt_id_idx" ON "WebhookDelivery"("createdAt", "id");

-- The few cancelled deliveries, newest first, without reading the rest: a delivery's status cannot be
-- indexed, but cancelledAt is written only by a cancel, so claims and records stay HOT.
CREATE INDEX "WebhookDelivery_cancelled_createdAt_id_idx" ON "WebhookDelivery"("createdAt", "id")
  WHERE "cancelledAt" IS NOT NULL;
