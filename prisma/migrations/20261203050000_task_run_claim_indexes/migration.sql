-- The engine's claim looks for one queue's runs in one status. With (status, runAt) and
-- (status, lockedUntil) PostgreSQL combined them with (taskId, idempotencyKey), which walks
-- every run the task ever had: a claim took 11 ms after 22,000 runs and grew with history.
-- Leading with (status, taskId) it reads only the queue's runs in that status (0.2 ms).
DROP INDEX "TaskRun_status_runAt_idx";
DROP INDEX "TaskRun_status_lockedUntil_idx";
CREATE INDEX "TaskRun_status_taskId_runAt_idx" ON "TaskRun"("status", "taskId", "runAt");
CREATE INDEX "TaskRun_status_taskId_lockedUntil_idx" ON "TaskRun"("status", "taskId", "lockedUntil");
