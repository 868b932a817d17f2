import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import type { TaskRunStatus } from "~/generated/prisma/client";
import { deleteFinishedTaskRuns } from "~/services/jobs/task-run-retention.server";

const DAY_MS = 24 * 60 * 60_000;

async function createRun(status: TaskRunStatus, finishedDaysAgo: number | null) {
  const run = await prisma.taskRun.create({
    data: {
      id: randomUUID(),
      taskId: "retention-test",
      payload: {},
      status,
      idempotencyKey: randomUUID(),
      completedAt: finishedDaysAgo === null ? null : new Date(Date.now() - finishedDaysAgo * DAY_MS),
    },
  });
  return run.id;
}

describe("deleteFinishedTaskRuns", () => {
  it("deletes finished runs past the retention, in batches, and nothing else", async () => {
    const old = [
      ...(await Promise.all(Array.from({ length: 5 }, () => createRun("COMPLETED", 31)))),
      await createRun("FAILED", 40),
      await createRun("CANCELLED", 35),
    ];
    // A finished run's attempts go with it.
    await prisma.taskRunAttempt.create({
      data: {
        runId: old[0]!,
        attemptNumber: 1,
        startedAt: new Date(Date.now() - 31 * DAY_MS),
        endedAt: new Date(Date.now() - 31 * DAY_MS),
        outcome: "COMPLETED",
      },
    });
    const kept = [
      await createRun("COMPLETED", 29),
      await createRun("FAILED", 1),
      await createRun("CANCELLED", 2),
      await createRun("QUEUED", null),
      // A live run is never deleted, whatever its timestamps say.
      await createRun("EXECUTING", 90),
    ];

    // A batch smaller than the backlog: the loop must go on until it is gone.
    expect(await deleteFinishedTaskRuns({ retentionDays: 30, batchSize: 2 })).toBe(old.length);

    const left = await prisma.taskRun.findMany({ where: { taskId: "retention-test" }, select: { id: true } });
    expect(new Set(left.map((run) => run.id))).toEqual(new Set(kept));
    expect(await prisma.taskRunAttempt.count({ where: { runId: old[0]! } })).toBe(0);
    expect(await deleteFinishedTaskRuns({ retentionDays: 30 })).toBe(0);
  });
});
