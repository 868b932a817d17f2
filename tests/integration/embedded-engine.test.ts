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
  });
});
