import { afterEach, describe, expect, it } from "vitest";
import { poolOf, prisma } from "~/db.server";
import { enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import { literal, numberLiteral, sqlOn, sqlScript, sqlTransaction } from "~/services/database/sql.server";

// The hot statements skip Prisma (sql.server.ts); these prove they read and write what Prisma would.

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz;
});

describe("sql on the shared pool", () => {
  it("reads Prisma's zone-less timestamps as UTC whatever the process's time zone", async () => {
    const user = await prisma.user.create({
      data: { email: `sql-${Date.now()}@echo.test`, name: "Zone", passwordHash: "x" },
    });
    for (const zone of ["UTC", "America/New_York", "Asia/Kolkata"]) {
      process.env.TZ = zone;
      const { rows } = await sqlOn<{ createdAt: Date }>(prisma, `SELECT "createdAt" FROM "User" WHERE id = $1`, [
        user.id,
      ]);
      expect(rows[0]!.createdAt.toISOString(), zone).toBe(user.createdAt.toISOString());
    }
  });

  it("rolls a transaction back when its work throws, and keeps what a committed one wrote", async () => {
    const email = `rollback-${Date.now()}@echo.test`;
    await expect(
      sqlTransaction(prisma, async (client) => {
        await client.query(
          `INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES ($1, $2, 'R', 'x', now())`,
          [`u-${Date.now()}`, email],
        );
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await prisma.user.count({ where: { email } })).toBe(0);

    await sqlTransaction(prisma, (client) =>
      client.query(
        `INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES ($1, $2, 'R', 'x', now())`,
        [`u2-${Date.now()}`, email],
      ),
    );
    expect(await prisma.user.count({ where: { email } })).toBe(1);
  });

  it("survives its connection being cut between two statements: the transaction fails, nothing is uncaught, the pool goes on", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      await expect(
        sqlTransaction(prisma, async (client) => {
          const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          // Another connection ends this one, as a PostgreSQL restart would.
          await poolOf(prisma).query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await client.query("SELECT 1");
        }),
      ).rejects.toThrow();
      expect(uncaught).toEqual([]);
      const { rows } = await sqlOn<{ ok: number }>(prisma, "SELECT 1 AS ok");
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("runs a script in one transaction: the last statement's rows, or nothing at all if one statement fails", async () => {
    const tricky = "it's a \\ back\\slash and a 'quote'; DROP TABLE \"User\"; --";
    const rows = await sqlScript<{ echoed: string; n: number }>(prisma, [
      "SELECT 1",
      `SELECT ${literal(tricky)} AS echoed, ${numberLiteral(2.5)}::float8 AS n`,
    ]);
    expect(rows).toEqual([{ echoed: tricky, n: 2.5 }]);

    const email = `script-${Date.now()}@echo.test`;
    await expect(
      sqlScript(prisma, [
        `INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES (${literal(`s-${Date.now()}`)}, ${literal(email)}, 'S', 'x', now())`,
        "SELECT 1 / 0",
      ]),
    ).rejects.toThrow(/division by zero/);
    expect(await prisma.user.count({ where: { email } })).toBe(0);
    expect(() => numberLiteral(Number.NaN)).toThrow();
  });

  it("queues runs inside a caller's Prisma transaction, never beside it on the pool: rolled back with it", async () => {
    const idempotencyKey = `sql-test-${Date.now()}`;
    await expect(
      prisma.$transaction(async (tx) => {
        await enqueueTaskRuns(tx, [{ taskId: "sql-test", payload: {}, idempotencyKey }]);
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect(await prisma.taskRun.count({ where: { idempotencyKey } })).toBe(0);
    expect(await enqueueTaskRuns(prisma, [{ taskId: "sql-test", payload: {}, idempotencyKey }])).toBe(1);
    expect(await enqueueTaskRuns(prisma, [{ taskId: "sql-test", payload: {}, idempotencyKey }])).toBe(0);
  });
});
