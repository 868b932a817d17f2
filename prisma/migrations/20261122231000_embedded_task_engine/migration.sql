-- CreateEnum
CREATE TYPE "TaskRunStatus" AS ENUM ('QUEUED', 'EXECUTING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "TaskRun" (
    "id" TEXT NOT NULL,
    "taskId" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "TaskRunStatus" NOT NULL DEFAULT 'QUEUED',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "runAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedUntil" TIMESTAMP(3),
    "lockedBy" TEXT,
    "idempotencyKey" TEXT,
    "concurrencyKey" TEXT,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "TaskRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TaskRun_status_runAt_idx" ON "TaskRun"("status", "runAt");

-- CreateIndex
CREATE INDEX "TaskRun_status_lockedUntil_idx" ON "TaskRun"("status", "lockedUntil");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRun_taskId_idempotencyKey_key" ON "TaskRun"("taskId", "idempotencyKey");
