import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { ApiRunListSchema, ApiRunSchema } from "~/presenters/ApiRunPresenter.server";
import { createApiKey } from "~/services/api/api-keys.server";
import { apiCaller, type ApiCall } from "../support/api-client";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { createOAuthApp, createUser } from "../support/fixtures/webhooks";

// The runs API over HTTP, as an operator's API key calls it. No worker: runs stay as the tests leave them.
let echo: RunningEcho;
let asOperator: ApiCall;
let asUser: ApiCall;
let operatorEmail: string;
let appId: string;

beforeAll(async () => {
  echo = await startEchoServer({
    databaseUrl: process.env.DATABASE_URL as string,
    env: { SEED_DEMO_DATA: "false", WORKER_ENABLED: "false" },
  });
  const operator = await prisma.user.create({
    data: { email: `ops-${randomUUID()}@example.com`, name: "Ops", passwordHash: "x", isOperator: true },
  });
  operatorEmail = operator.email;
  const operatorKey = await createApiKey(prisma, operator.id, { name: "ops" });
  const user = await createUser(prisma);
  const userKey = await createApiKey(prisma, user.id, { name: "user" });
  if (!operatorKey.ok || !userKey.ok) throw new Error("API keys");
  asOperator = apiCaller(echo.url, operatorKey.key);
  asUser = apiCaller(echo.url, userKey.key);
  appId = (await createOAuthApp(prisma, { ownerId: user.id, webhookUrl: "https://app.example/hook" })).id;
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

async function queuedRun(createdAt = new Date()) {
  const run = await prisma.taskRun.create({
    data: {
      id: randomUUID(),
      taskId: "integration-health-check",
      payload: { integrationAccountId: "acct_1" },
      createdAt,
      runAt: new Date(Date.now() + 3_600_000),
    },
  });
  return run.id;
}

async function problemOf(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  return (await response.json()) as { title: string; detail?: string; errors?: { field: string | null }[] };
}

describe("GET /api/v1/runs", () => {
  it("lists runs and deliveries newest first, with filters and a cursor", async () => {
    const base = Date.UTC(2022, 5, 1);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await queuedRun(new Date(base + i * 1_000)));
    const event = await prisma.webhookEvent.create({
      data: { type: "webhook.test", userId: null, source: "api-runs", payload: {}, createdAt: new Date(base) },
    });
    const delivery = await prisma.webhookDelivery.create({
      data: {
        eventId: event.id,
        oauthClientId: appId,
        eventType: "webhook.test",
        url: "https://app.example/hook",
        body: "{}",
        maxAttempts: 1,
        status: "FAILED",
        completedAt: new Date(base + 10_500),
        createdAt: new Date(base + 10_500),
      },
    });
    const window = `since=${new Date(base).toISOString()}&until=${new Date(base + 60_000).toISOString()}`;

    const first = await asOperator(`/runs?${window}&limit=4`);
    expect(first.status).toBe(200);
    const page = ApiRunListSchema.parse(await first.json());
    expect(page.data.map((run) => run.id)).toEqual([`delivery_${delivery.id}`, ids[4], ids[3], ids[2]]);
    expect(page.data[0]).toMatchObject({ task: "webhook-delivery", status: "failed", source: "delivery" });
    expect(page.data[1]).toMatchObject({ task: "integration-health-check", status: "queued", attempt: 0 });
    const second = ApiRunListSchema.parse(
      await (await asOperator(`/runs?${window}&limit=4&cursor=${page.nextCursor}`)).json(),
    );
    expect(second).toEqual({
      data: [expect.objectContaining({ id: ids[1] }), expect.objectContaining({ id: ids[0] })],
      nextCursor: null,
    });

    const failed = ApiRunListSchema.parse(await (await asOperator(`/runs?${window}&status=failed`)).json());
    expect(failed.data.map((run) => run.id)).toEqual([`delivery_${delivery.id}`]);
    const checks = ApiRunListSchema.parse(
      await (await asOperator(`/runs?${window}&task=integration-health-check&limit=100`)).json(),
    );
    expect(checks.data).toHaveLength(5);
  });

  it("refuses bad filters with problem+json naming the field", async () => {
    expect((await problemOf(await asOperator("/runs?status=stuck"), 400)).errors?.[0]?.field).toBe("status");
    expect((await problemOf(await asOperator("/runs?limit=1000"), 400)).errors?.[0]?.field).toBe("limit");
    expect((await problemOf(await asOperator("/runs?cursor=garbage"), 400)).errors?.[0]?.field).toBe("cursor");
    expect((await problemOf(await asOperator("/runs?sort=asc"), 400)).title).toBe("Invalid request");
    expect((await problemOf(await asOperator("/runs?since=yesterday"), 400)).errors?.[0]?.field).toBe("since");
    const reversed = await problemOf(
      await asOperator("/runs?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"),
      400,
    );
    expect(reversed.detail).toContain("`since` is after `until`");
  });

  it("answers 404 to anyone but an operator, and 401 without a key", async () => {
    await problemOf(await asUser("/runs"), 404);
    await problemOf(await apiCaller(echo.url, null)("/runs"), 401);
  });
});

describe("one run, and its actions", () => {
  it("shows a run with its attempts, and 404 for one that does not exist", async () => {
    const id = await queuedRun();
    await prisma.taskRunAttempt.create({
      data: {
        runId: id,
        attemptNumber: 1,
        startedAt: new Date(Date.now() - 2_000),
        endedAt: new Date(Date.now() - 1_500),
        outcome: "RETRYING",
        workerId: "worker-1",
        error: "Error: provider timed out",
        stack: "Error: provider timed out\n    at check (check-integration-health.server.ts:1:1)",
        nextRetryAt: new Date(Date.now() + 60_000),
      },
    });
    await prisma.taskRun.update({ where: { id }, data: { attempt: 1 } });
    const response = await asOperator(`/runs/${id}`);
    expect(response.status).toBe(200);
    const run = ApiRunSchema.parse(await response.json());
    expect(run).toMatchObject({ id, status: "retrying", canCancel: true, canReplay: true });
    expect(run.attempts).toEqual([
      expect.objectContaining({
        number: 1,
        outcome: "retrying",
        durationMs: 500,
        workerId: "worker-1",
        error: "Error: provider timed out",
        stack: expect.stringContaining("check-integration-health.server.ts"),
      }),
    ]);
    await problemOf(await asOperator(`/runs/${randomUUID()}`), 404);
    await problemOf(await asOperator("/runs/delivery_nope"), 404);
    await problemOf(await asOperator("/runs/has%20a%20space"), 404);
    await problemOf(await asUser(`/runs/${id}`), 404);
  });

  it("cancels a queued run once, then says why it cannot again", async () => {
    const id = await queuedRun();
    const response = await asOperator(`/runs/${id}/cancel`, { method: "POST" });
    expect(response.status).toBe(200);
    const run = ApiRunSchema.parse(await response.json());
    expect(run).toMatchObject({ status: "cancelled", canCancel: false });
    expect(run.actions).toEqual([expect.objectContaining({ kind: "cancel", actorEmail: operatorEmail })]);
    const again = await problemOf(await asOperator(`/runs/${id}/cancel`, { method: "POST" }), 409);
    expect(again.detail).toContain("this one is cancelled");
    await problemOf(await asOperator(`/runs/${randomUUID()}/cancel`, { method: "POST" }), 404);
  });

  it("replays a run as a new one (202), recorded on both", async () => {
    const id = await queuedRun();
    const response = await asOperator(`/runs/${id}/replay`, { method: "POST" });
    expect(response.status).toBe(202);
    const replayed = ApiRunSchema.parse(await response.json());
    expect(replayed.id).not.toBe(id);
    expect(replayed).toMatchObject({ task: "integration-health-check", status: "queued", replayOf: id });
    expect(replayed.payload).toEqual({ integrationAccountId: "acct_1" });
    const original = ApiRunSchema.parse(await (await asOperator(`/runs/${id}`)).json());
    expect(original.actions).toEqual([
      expect.objectContaining({ kind: "replay", actorEmail: operatorEmail, resultRunId: replayed.id }),
    ]);
  });

  it("refuses both to anyone but an operator, changing nothing", async () => {
    const id = await queuedRun();
    await problemOf(await asUser(`/runs/${id}/cancel`, { method: "POST" }), 404);
    await problemOf(await asUser(`/runs/${id}/replay`, { method: "POST" }), 404);
    expect(await prisma.taskRun.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "QUEUED" });
    expect(await prisma.runAction.count({ where: { runId: id } })).toBe(0);
  });
});
