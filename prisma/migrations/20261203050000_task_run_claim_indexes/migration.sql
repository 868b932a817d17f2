-- The engine's claim looks for one queue's runs in one status. With (status, runAt) and
-- (status, lockedUntil) PostgreSQL combined them with (taskId, idempotencyKey), which walks
-- every run the task ever had: a claim took 11 ms after 22,000 runs and grew with history.
-- One index leading with (status, taskId) serves every lookup: queued runs come out in runAt
-- order, so a claim with a backlog stops after the runs it takes (17 -> 4 ms with 20,000
-- queued, 100 claimed), and executing runs (at most the concurrency limits, plus versions
-- not yet vacuumed) are few enough to filter by lease.
DROP INDEX "TaskRun_status_runAt_idx";
DROP INDEX "TaskRun_status_lockedUntil_idx";
CREATE INDEX "TaskRun_status_taskId_runAt_idx" ON "TaskRun"("status", "taskId", "runAt");
