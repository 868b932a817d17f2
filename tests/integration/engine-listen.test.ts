import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog } from "~/services/jobs/task-catalog.server";
import { TASK_RUN_CHANNEL, enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import type { engineLog as EngineLog } from "../support/engine-tasks/test-tasks";
import { waitFor } from "../support/wait";

let engine: EmbeddedTaskEngine;
let engineLog: typeof EngineLog;

// Polling once a minute: within this test only a NOTIFY can wake the engine quickly.
beforeAll(async () => {
  const catalog = await loadTaskCatalog([path.resolve("tests/support/engine-tasks/test-tasks.ts")]);
  ({ engineLog } = await import("../support/engine-tasks/test-tasks"));
  engine = new EmbeddedTaskEngine(catalog, {
    db: prisma,
    databaseUrl: process.env.DATABASE_URL as string,
    logger: pino({ level: "silent" }),
    pollIntervalMs: 60_000,
    executors: new Map(),
  });
  await engine.start();
});

afterAll(() => engine.stop());

function listeners() {
  return prisma.$queryRaw<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND query = ${`LISTEN ${TASK_RUN_CHANNEL}`}`;
}

async function runsPromptly(value: string) {
  const started = Date.now();
  await enqueueTaskRuns(prisma, [{ taskId: "test-echo", payload: { value } }]);
  await waitFor(async () => engineLog.ran.some((run) => (run.payload as { value: string }).value === value), {
    timeoutMs: 10_000,
  });
  return Date.now() - started;
}

describe("the engine's LISTEN connection", () => {
  it("is opened again after the database cuts it, so new runs start at once, not at the next poll", async () => {
    expect(await runsPromptly("before")).toBeLessThan(5_000);

    const [listener] = await listeners();
    expect(listener).toBeDefined();
    await prisma.$queryRaw`SELECT pg_terminate_backend(${listener!.pid}::int)`;
    const replacement = await waitFor(async () => {
      const now = await listeners();
      return now.find((row) => row.pid !== listener!.pid);
    });
    expect(replacement.pid).not.toBe(listener!.pid);

    expect(await runsPromptly("after")).toBeLessThan(5_000);
  });
});
