import { AbortTaskRunError, task } from "@trigger.dev/sdk";

/** What the test tasks did, for the engine tests to read back. */
export const engineLog = {
  ran: [] as { taskId: string; payload: unknown; attempt: number; at: number }[],
  failures: [] as { taskId: string; payload: unknown }[],
  concurrent: 0,
  maxConcurrent: 0,
  reset() {
    this.ran = [];
    this.failures = [];
    this.concurrent = 0;
    this.maxConcurrent = 0;
  },
};

type Ctx = { attempt: { number: number } };

function record(taskId: string, payload: unknown, ctx: unknown) {
  engineLog.ran.push({ taskId, payload, attempt: (ctx as Ctx).attempt.number, at: Date.now() });
}

export const echoTask = task({
  id: "test-echo",
  run: async (payload: { value: string }, { ctx }) => {
    record("test-echo", payload, ctx);
  },
});

export const flakyTask = task({
  id: "test-flaky",
  retry: { maxAttempts: 3, factor: 1, minTimeoutInMs: 50, maxTimeoutInMs: 50, randomize: false },
  run: async (payload: { failTimes: number }, { ctx }) => {
    record("test-flaky", payload, ctx);
    if (ctx.attempt.number <= payload.failTimes) throw new Error(`failing attempt ${ctx.attempt.number}`);
  },
  onFailure: async ({ payload }) => {
    engineLog.failures.push({ taskId: "test-flaky", payload });
  },
});

export const abortingTask = task({
  id: "test-abort",
  retry: { maxAttempts: 5, minTimeoutInMs: 10, maxTimeoutInMs: 10 },
  run: async (payload: { reason: string }, { ctx }) => {
    record("test-abort", payload, ctx);
    throw new AbortTaskRunError(payload.reason);
  },
  onFailure: async ({ payload }) => {
    engineLog.failures.push({ taskId: "test-abort", payload });
  },
});

export const catchErrorTask = task({
  id: "test-catch-error",
  retry: { maxAttempts: 4, minTimeoutInMs: 10, maxTimeoutInMs: 10 },
  run: async (payload: { mode: "retryAt" | "skip" }, { ctx }) => {
    record("test-catch-error", payload, ctx);
    if (ctx.attempt.number === 1) throw new Error("first attempt fails");
  },
  catchError: async ({ payload }) => {
    const { mode } = payload as { mode: "retryAt" | "skip" };
    return mode === "skip" ? { skipRetrying: true } : { retryAt: new Date(Date.now() + 400) };
  },
});

export const limitedTask = task({
  id: "test-limited",
  concurrency: { total: 2 },
  run: async (payload: { index: number }, { ctx }) => {
    engineLog.concurrent++;
    engineLog.maxConcurrent = Math.max(engineLog.maxConcurrent, engineLog.concurrent);
    record("test-limited", payload, ctx);
    await new Promise((resolve) => setTimeout(resolve, 80));
    engineLog.concurrent--;
  },
});
