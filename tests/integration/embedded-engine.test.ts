import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, type TaskCatalog } from "~/services/jobs/task-catalog.server";
import { enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import type { engineLog as EngineLog } from "../support/engine-tasks/test-tasks";
import { waitFor } from "../support/wait";

let catalog: TaskCatalog;
let engine: EmbeddedTaskEngine;
let engineLog: typeof EngineLog;

function runsOf(taskId: string) {
  return prisma.taskRun.findMany({ where: { taskId }, orderBy: { createdAt: "asc" } });
}

beforeAll(async () => {
  const file = path.resolve("tests/support/engine-tasks/test-tasks.ts");
  catalog = await loadTaskCatalog([file]);
  ({ engineLog } = await import("../support/engine-tasks/test-tasks"));
  engine = new EmbeddedTaskEngine(catalog, {
    db: prisma,
    databaseUrl: process.env.DATABASE_URL as string,
    logger: pino({ level: "silent" }),
    leaseMs: 600,
    pollIntervalMs: 50,
  });
  await engine.start();
});

afterAll(async () => {
  await engine.stop();
});

beforeEach(() => engineLog.reset());

describe("embedded task engine", () => {
  it("loads the task definitions with their queue, concurrency and retry settings", () => {
    expect(catalog.get("test-limited")).toMatchObject({ concurrencyLimit: 2, queueName: "task/test-limited" });
    expect(catalog.get("test-flaky")?.retry).toMatchObject({ maxAttempts: 3, minTimeoutInMs: 50 });
  });

  it("runs a triggered task once and marks it completed", async () => {
    await enqueueTaskRuns(prisma, [{ taskId: "test-echo", payload: { value: "hello" } }]);
    const [run] = await waitFor(async () => {
      const runs = await runsOf("test-echo");
      return runs[0]?.status === "COMPLETED" && runs;
    });
    expect(run).toMatchObject({ attempt: 1, lockedUntil: null });
    expect(engineLog.ran).toEqual([
      expect.objectContaining({ taskId: "test-echo", payload: { value: "hello" }, attempt: 1 }),
    ]);
  });

  it("creates a run once per idempotency key", async () => {
    const first = await enqueueTaskRuns(prisma, [
      { taskId: "test-echo", payload: { value: "a" }, idempotencyKey: "same" },
    ]);
    const second = await enqueueTaskRuns(prisma, [
      { taskId: "test-echo", payload: { value: "b" }, idempotencyKey: "same" },
    ]);
    expect([first, second]).toEqual([1, 0]);
    await waitFor(async () => engineLog.ran.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(engineLog.ran.map((r) => r.payload)).toEqual([{ value: "a" }]);
  });

  it("retries a failing task with its retry settings until it succeeds", async () => {
    await enqueueTaskRuns(prisma, [{ taskId: "test-flaky", payload: { failTimes: 2 } }]);
    const run = await waitFor(
      async () => (await prisma.taskRun.findFirst({ where: { taskId: "test-flaky", status: "COMPLETED" } })) ?? false,
    );
    expect(run.attempt).toBe(3);
    expect(engineLog.ran.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // minTimeoutInMs 50 between attempts, never sooner.
    expect(engineLog.ran[1]!.at - engineLog.ran[0]!.at).toBeGreaterThanOrEqual(45);
  });

  it("fails after maxAttempts, keeps the last error and calls onFailure once", async () => {
    await enqueueTaskRuns(prisma, [{ taskId: "test-flaky", payload: { failTimes: 99 } }]);
    const run = await waitFor(
      async () => (await prisma.taskRun.findFirst({ where: { taskId: "test-flaky", status: "FAILED" } })) ?? false,
    );
    expect(run.attempt).toBe(3);
    expect(run.lastError).toContain("failing attempt 3");
    // onFailure runs once the run is marked FAILED, a moment after.
    await waitFor(async () => engineLog.failures.length > 0);
    expect(engineLog.failures).toEqual([{ taskId: "test-flaky", payload: { failTimes: 99 } }]);
  });

  it("does not retry an AbortTaskRunError", async () => {
    await enqueueTaskRuns(prisma, [{ taskId: "test-abort", payload: { reason: "permanent" } }]);
    const run = await waitFor(
      async () => (await prisma.taskRun.findFirst({ where: { taskId: "test-abort", status: "FAILED" } })) ?? false,
    );
    expect(run.attempt).toBe(1);
    expect(run.lastError).toContain("permanent");
    await waitFor(async () => engineLog.failures.length > 0);
    expect(engineLog.failures).toHaveLength(1);
  });

  it("honours catchError's retryAt and skipRetrying", async () => {
    await enqueueTaskRuns(prisma, [
      { taskId: "test-catch-error", payload: { mode: "retryAt" }, idempotencyKey: "retry-at" },
      { taskId: "test-catch-error", payload: { mode: "skip" }, idempotencyKey: "skip" },
    ]);
    const retried = await waitFor(
      async () =>
        (await prisma.taskRun.findFirst({ where: { idempotencyKey: "retry-at", status: "COMPLETED" } })) ?? false,
    );
    const skipped = await waitFor(
      async () => (await prisma.taskRun.findFirst({ where: { idempotencyKey: "skip", status: "FAILED" } })) ?? false,
    );
    expect(retried.attempt).toBe(2);
    expect(skipped.attempt).toBe(1);
    const attempts = engineLog.ran.filter((r) => (r.payload as { mode: string }).mode === "retryAt");
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(380);
  });

  it("never runs more at once than the task's concurrency limit", async () => {
    await enqueueTaskRuns(
      prisma,
      Array.from({ length: 8 }, (_, index) => ({ taskId: "test-limited", payload: { index } })),
    );
    await waitFor(
      async () => (await prisma.taskRun.count({ where: { taskId: "test-limited", status: "COMPLETED" } })) === 8,
    );
    expect(engineLog.maxConcurrent).toBe(2);
  });

  it("runs again an attempt whose worker died holding the lease", async () => {
    // A worker that claimed the run and then vanished: no heartbeat, lease about to lapse.
    await prisma.taskRun.create({
      data: {
        id: "orphaned-run",
        taskId: "test-echo",
        payload: { value: "orphan" },
        status: "EXECUTING",
        attempt: 1,
        lockedBy: "dead-worker",
        lockedUntil: new Date(Date.now() + 300),
      },
    });
    const run = await waitFor(async () => {
      const found = await prisma.taskRun.findUnique({ where: { id: "orphaned-run" } });
      return found?.status === "COMPLETED" && found;
    });
    expect(run.attempt).toBe(2);
    expect(run.lockedBy).toBe(engine.workerId);
    // The attempt that never ended is on record as interrupted, with the worker that held it.
    const attempts = await attemptsOf("orphaned-run");
    expect(attempts.map(({ attemptNumber, outcome, workerId }) => ({ attemptNumber, outcome, workerId }))).toEqual([
      { attemptNumber: 1, outcome: "INTERRUPTED", workerId: "dead-worker" },
      { attemptNumber: 2, outcome: "COMPLETED", workerId: engine.workerId },
    ]);
    expect(attempts[0]!.error).toMatch(/stopped renewing the lease/);
  });
});

function attemptsOf(runId: string) {
  return prisma.taskRunAttempt.findMany({ where: { runId }, orderBy: { attemptNumber: "asc" } });
}

describe("what the engine records for the runs console", () => {
  it("records every attempt: its start and end, the error and stack of a failure, and when the retry is due", async () => {
    await enqueueTaskRuns(prisma, [{ taskId: "test-flaky", payload: { failTimes: 2 }, idempotencyKey: "attempts" }]);
    const run = await waitFor(
      async () =>
        (await prisma.taskRun.findFirst({ where: { idempotencyKey: "attempts", status: "COMPLETED" } })) ?? false,
    );
    const attempts = await attemptsOf(run.id);
    expect(attempts.map((a) => [a.attemptNumber, a.outcome, a.workerId])).toEqual([
      [1, "RETRYING", engine.workerId],
      [2, "RETRYING", engine.workerId],
      [3, "COMPLETED", engine.workerId],
    ]);
    for (const [index, attempt] of attempts.entries()) {
      expect(attempt.endedAt.getTime()).toBeGreaterThanOrEqual(attempt.startedAt.getTime());
      if (index < 2) {
        expect(attempt.error).toBe(`Error: failing attempt ${index + 1}`);
        // The stack points into the task's own code.
        expect(attempt.stack).toMatch(/failing attempt[\s\S]*test-tasks\.ts/);
        expect(attempt.nextRetryAt!.getTime()).toBeGreaterThanOrEqual(attempt.endedAt.getTime());
        // The next attempt started no sooner than it was due.
        expect(attempts[index + 1]!.startedAt.getTime()).toBeGreaterThanOrEqual(attempt.nextRetryAt!.getTime());
      } else {
        expect([attempt.error, attempt.stack, attempt.nextRetryAt]).toEqual([null, null, null]);
      }
    }
    expect(run.attemptStartedAt).toEqual(attempts[2]!.startedAt);
  });

  it("records a run's final failure with its error and stack", async () => {
    await enqueueTaskRuns(prisma, [
      { taskId: "test-abort", payload: { reason: "no such thing" }, idempotencyKey: "x" },
    ]);
    const run = await waitFor(
      async () => (await prisma.taskRun.findFirst({ where: { idempotencyKey: "x", status: "FAILED" } })) ?? false,
    );
    const [attempt, ...more] = await attemptsOf(run.id);
    expect(more).toEqual([]);
    expect(attempt).toMatchObject({ attemptNumber: 1, outcome: "FAILED", nextRetryAt: null });
    expect(attempt!.error).toContain("no such thing");
    expect(attempt!.stack).toContain("test-tasks.ts");
  });

  it("never runs a cancelled run", async () => {
    await prisma.taskRun.create({
      data: { id: "cancelled-run", taskId: "test-echo", payload: { value: "never" }, status: "CANCELLED" },
    });
    await enqueueTaskRuns(prisma, [{ taskId: "test-echo", payload: { value: "after" } }]);
    await waitFor(async () => engineLog.ran.some((r) => (r.payload as { value: string }).value === "after"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(engineLog.ran.map((r) => (r.payload as { value: string }).value)).toEqual(["after"]);
    expect((await prisma.taskRun.findUniqueOrThrow({ where: { id: "cancelled-run" } })).status).toBe("CANCELLED");
  });

  it("reports itself and its queues' limits, and removes its report when it stops", async () => {
    const report = await prisma.engineWorker.findUniqueOrThrow({ where: { id: engine.workerId } });
    expect(report.pid).toBe(process.pid);
    expect(report.queues).toEqual(
      expect.arrayContaining([
        { name: "task/test-limited", taskIds: ["test-limited"], limit: 2, perKey: null, scope: "global" },
      ]),
    );
    const other = new EmbeddedTaskEngine(catalog, {
      db: prisma,
      databaseUrl: process.env.DATABASE_URL as string,
      logger: pino({ level: "silent" }),
      pollIntervalMs: 50,
    });
    await other.start();
    expect(await prisma.engineWorker.count({ where: { id: other.workerId } })).toBe(1);
    await other.stop();
    expect(await prisma.engineWorker.count({ where: { id: other.workerId } })).toBe(0);
  });
});
