import { randomUUID } from "node:crypto";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import type { TaskRunStatus, WebhookDeliveryStatus } from "~/generated/prisma/enums";
import { EVENT_CATALOG, type EventType } from "~/lib/events/catalog";
import { deliveryRunId, type RunStatus } from "~/lib/runs/runs";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn } from "~/services/jobs/task-catalog.server";
import { enqueueTaskRuns } from "~/services/jobs/task-runs.server";
import { cancelRun, replayRun } from "~/services/runs/run-actions.server";
import { getRunDetail } from "~/services/runs/run-detail.server";
import { RunListFiltersSchema, listRuns, type RunListFilters } from "~/services/runs/run-list.server";
import { presentQueues } from "~/services/runs/queues.server";
import { ServiceError } from "~/services/service-error.server";
import { EndpointCreateSchema, createEndpoint } from "~/services/webhooks/endpoints.server";
import { createOAuthApp, createUser } from "../support/fixtures/webhooks";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { waitFor } from "../support/wait";

// The runs console's services over real rows, and the real engine running Echo's own tasks.
const operator = { id: "", email: "" };
let appId: string;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  const user = await createUser(prisma, "Operator");
  Object.assign(operator, user);
  const app = await createOAuthApp(prisma, { ownerId: user.id, webhookUrl: "https://app.example/hook" });
  appId = app.id;
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

/** A window far in the past that only the list tests write into, so other tests' runs stay out of them. */
const WINDOW = { since: "2020-01-01T00:00:00.000Z", until: "2020-01-02T00:00:00.000Z" };
const at = (minute: number, ms = 0) => new Date(Date.UTC(2020, 0, 1, 0, minute, 0, ms));

function list(filters: Partial<RunListFilters> = {}) {
  return listRuns(RunListFiltersSchema.parse({ ...WINDOW, ...filters }));
}

async function taskRun(
  createdAt: Date,
  {
    taskId = "webhook-event-fanout",
    status = "COMPLETED",
    attempt = 1,
    payload = { eventId: "evt-none" },
    idempotencyKey = randomUUID(),
    runAt = new Date(Date.now() + 3_600_000),
  }: {
    taskId?: string;
    status?: TaskRunStatus;
    attempt?: number;
    payload?: object;
    idempotencyKey?: string;
    runAt?: Date;
  } = {},
) {
  const run = await prisma.taskRun.create({
    data: { id: randomUUID(), taskId, payload, status, attempt, createdAt, runAt, idempotencyKey },
  });
  return run.id;
}

async function event(type: EventType = "webhook.test") {
  return prisma.webhookEvent.create({
    // A payload the event's schema accepts, so that a fan-out can build the envelope.
    data: {
      type,
      userId: operator.id,
      source: "runs-test",
      payload: EVENT_CATALOG[type].example as object,
      dispatchedAt: new Date(),
    },
    select: { id: true, type: true },
  });
}

/** A delivery of a new event to a new endpoint of the operator's, with a real receiver behind it. */
async function endpointDelivery(name: string, fields: { body: string; maxAttempts: number; nextAttemptAt?: Date }) {
  const hook = await receiver();
  const endpoint = await createEndpoint({ userId: operator.id }, EndpointCreateSchema.parse({ name, url: hook.url }));
  const created = await event();
  const row = await prisma.webhookDelivery.create({
    data: { eventId: created.id, endpointId: endpoint.id, eventType: created.type, url: hook.url, ...fields },
  });
  return { hook, row };
}

async function delivery(
  createdAt: Date,
  {
    status = "SUCCESS",
    eventId,
    nextAttemptAt = null,
    cancelledAt = null,
    completedAt = status === "SUCCESS" || status === "FAILED" ? createdAt : null,
  }: {
    status?: WebhookDeliveryStatus;
    eventId?: string;
    nextAttemptAt?: Date | null;
    cancelledAt?: Date | null;
    completedAt?: Date | null;
  } = {},
) {
  // An OAuth app gets one delivery per event: each delivery here has its own event.
  const row = await prisma.webhookDelivery.create({
    data: {
      eventId: eventId ?? (await event()).id,
      oauthClientId: appId,
      eventType: "webhook.test",
      url: "https://app.example/hook",
      body: JSON.stringify({ hello: "world", token: "must-not-show" }),
      status,
      attemptCount: status === "PENDING" ? 0 : 1,
      maxAttempts: 3,
      nextAttemptAt,
      cancelledAt,
      completedAt,
      createdAt,
    },
  });
  return deliveryRunId(row.id);
}

describe("the runs list", () => {
  const all: string[] = [];

  beforeAll(async () => {
    // Newest first, TaskRuns and deliveries interleaved, several sharing one millisecond (as one fan-out's do).
    for (let minute = 0; minute < 12; minute++) {
      all.push(await taskRun(at(minute)));
      all.push(await delivery(at(minute, 500)));
    }
    for (let i = 0; i < 5; i++) all.push(await delivery(at(30)));
    for (let i = 0; i < 4; i++) all.push(await taskRun(at(30)));
  });

  it("merges task runs and deliveries newest first, and pages through them without a gap or a repeat", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list({ limit: 7, cursor });
      seen.push(...page.runs.map((run) => run.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(all.length / 7));
    expect(new Set(seen).size).toBe(all.length);
    expect(new Set(seen)).toEqual(new Set(all));

    const everything = await list({ limit: 100 });
    expect(everything.runs.map((run) => run.id)).toEqual(seen);
    expect(everything.nextCursor).toBeNull();
    const times = everything.runs.map((run) => run.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(
      everything.runs.filter((run) => run.source === "delivery").every((run) => run.taskId === "webhook-delivery"),
    ).toBe(true);
  });

  it("filters by task and by time range", async () => {
    const deliveries = await list({ task: "webhook-delivery", limit: 100 });
    expect(deliveries.runs).toHaveLength(17);
    expect(deliveries.runs.every((run) => run.id.startsWith("delivery_"))).toBe(true);
    const fanOuts = await list({ task: "webhook-event-fanout", limit: 100 });
    expect(fanOuts.runs).toHaveLength(16);
    expect(await list({ task: "integration-run" })).toEqual({ runs: [], nextCursor: null });

    const early = await list({ since: at(0).toISOString(), until: at(2).toISOString(), limit: 100 });
    expect(early.runs.map((run) => run.createdAt.toISOString())).toEqual([
      at(2).toISOString(),
      at(1, 500).toISOString(),
      at(1).toISOString(),
      at(0, 500).toISOString(),
      at(0).toISOString(),
    ]);
  });

  it("refuses a cursor it did not make and a range that ends before it starts", async () => {
    await expect(list({ cursor: "bm90LWEtY3Vyc29y" })).rejects.toMatchObject({ status: 400, field: "cursor" });
    await expect(list({ since: at(5).toISOString(), until: at(1).toISOString() })).rejects.toBeInstanceOf(ServiceError);
  });
});

describe("statuses", () => {
  const SINCE = "2021-01-01T00:00:00.000Z";
  const UNTIL = "2021-01-02T00:00:00.000Z";
  const day = (minute: number) => new Date(Date.UTC(2021, 0, 1, 0, minute));
  const expected = new Map<string, RunStatus>();

  beforeAll(async () => {
    const later = new Date(Date.now() + 3_600_000);
    expected.set(await taskRun(day(1), { status: "QUEUED", attempt: 0 }), "queued");
    expected.set(await taskRun(day(2), { status: "QUEUED", attempt: 2 }), "retrying");
    expected.set(await taskRun(day(3), { status: "EXECUTING" }), "executing");
    expected.set(await taskRun(day(4), { status: "COMPLETED" }), "completed");
    expected.set(await taskRun(day(5), { status: "FAILED" }), "failed");
    expected.set(await taskRun(day(6), { status: "CANCELLED", attempt: 0 }), "cancelled");
    expected.set(await delivery(day(7), { status: "PENDING", nextAttemptAt: later }), "queued");
    expected.set(await delivery(day(8), { status: "SENDING" }), "executing");
    expected.set(await delivery(day(9), { status: "RETRYING", nextAttemptAt: later }), "retrying");
    expected.set(await delivery(day(10), { status: "SUCCESS" }), "completed");
    expected.set(await delivery(day(11), { status: "FAILED" }), "failed");
    expected.set(
      await delivery(day(12), { status: "FAILED", cancelledAt: day(12), completedAt: day(12) }),
      "cancelled",
    );
    // Cancelled once, then replayed and failed again later: a failure, no longer a cancellation.
    expected.set(await delivery(day(13), { status: "FAILED", cancelledAt: day(13), completedAt: day(14) }), "failed");
    // Held back (a paused endpoint): queued, with no due time.
    expected.set(await delivery(day(15), { status: "PENDING", nextAttemptAt: null }), "queued");
  });

  it("maps each TaskRun and delivery state to the console's status, and filters by each", async () => {
    const runs = (await listRuns(RunListFiltersSchema.parse({ since: SINCE, until: UNTIL }))).runs;
    expect(new Map(runs.map((run) => [run.id, run.status]))).toEqual(expected);
    const held = runs.filter((run) => run.held);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ status: "queued", nextAttemptAt: null });

    for (const status of ["queued", "executing", "retrying", "completed", "failed", "cancelled"] as const) {
      const filtered = await listRuns(RunListFiltersSchema.parse({ since: SINCE, until: UNTIL, status }));
      expect(new Set(filtered.runs.map((run) => run.id)), status).toEqual(
        new Set([...expected].filter(([, s]) => s === status).map(([id]) => id)),
      );
    }
  });
});

describe("search", () => {
  it("finds a run by its id, a delivery by its id or run id, an event's fan-out run and deliveries, and an idempotency key", async () => {
    const fanOutEvent = await event("oauth.grant.created");
    const fanOut = await taskRun(new Date(), { idempotencyKey: `oauth.grant.created:${fanOutEvent.id}` });
    const produced = await delivery(new Date(), { eventId: fanOutEvent.id });
    const other = await taskRun(new Date(), { idempotencyKey: "my-own-key" });
    const q = async (term: string) =>
      (await listRuns(RunListFiltersSchema.parse({ q: term }))).runs.map((run) => run.id).sort();

    expect(await q(fanOut)).toEqual([fanOut]);
    expect(await q(produced)).toEqual([produced]);
    expect(await q(produced.slice("delivery_".length))).toEqual([produced]);
    expect(await q(`delivery:${produced.slice("delivery_".length)}`)).toEqual([produced]);
    expect(await q(fanOutEvent.id)).toEqual([fanOut, produced].sort());
    expect(await q(`evt_${fanOutEvent.id}`)).toEqual([fanOut, produced].sort());
    expect(await q("my-own-key")).toEqual([other]);
    expect(await q("nothing-has-this-id")).toEqual([]);
  });
});

describe("the engine's runs in the console", () => {
  let engine: EmbeddedTaskEngine;

  beforeAll(async () => {
    const catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
    engine = new EmbeddedTaskEngine(catalog, {
      db: prisma,
      databaseUrl: process.env.DATABASE_URL as string,
      logger: pino({ level: "silent" }),
      leaseMs: 2_000,
      pollIntervalMs: 50,
    });
    await engine.start();
  });

  afterAll(async () => {
    await engine.stop();
  });

  it("shows a failing fan-out's error and stack on its attempt", async () => {
    await enqueueTaskRuns(prisma, [
      { taskId: "webhook-event-fanout", payload: { eventId: "gone" }, idempotencyKey: "k1" },
    ]);
    const run = await waitFor(
      async () =>
        (await prisma.taskRun.findFirst({ where: { idempotencyKey: "k1", status: "FAILED" }, select: { id: true } })) ??
        false,
    );
    const detail = (await getRunDetail(run.id))!;
    expect(detail).toMatchObject({
      status: "failed",
      taskId: "webhook-event-fanout",
      canCancel: false,
      canReplay: true,
    });
    expect(detail.lastError).toContain("Webhook event gone does not exist");
    expect(detail.attempts).toHaveLength(1);
    expect(detail.attempts[0]).toMatchObject({ number: 1, outcome: "failed", workerId: engine.workerId });
    expect(detail.attempts[0]!.error).toContain("Webhook event gone does not exist");
    // Where the failure came from: the fan-out's own code.
    expect(detail.attempts[0]!.stack).toMatch(/EventNotFoundError[\s\S]*integration-fanout\.server\.ts/);
    expect(detail.attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("links a fan-out to its event and the deliveries it produced, and a delivery's run back to them", async () => {
    const hook = await receiver();
    const endpoint = await createEndpoint(
      { userId: operator.id },
      EndpointCreateSchema.parse({ name: "Runs receiver", url: hook.url, eventTypes: ["oauth.grant.created"] }),
    );
    const created = await event("oauth.grant.created");
    await enqueueTaskRuns(prisma, [
      {
        taskId: "webhook-event-fanout",
        payload: { eventId: created.id },
        idempotencyKey: `oauth.grant.created:${created.id}`,
      },
    ]);
    const fanOut = await waitFor(
      async () =>
        (await prisma.taskRun.findFirst({
          where: { idempotencyKey: `oauth.grant.created:${created.id}`, status: "COMPLETED" },
          select: { id: true },
        })) ?? false,
    );
    await hook.waitForCount(1);
    const deliveryRow = await waitFor(() =>
      prisma.webhookDelivery.findFirst({ where: { eventId: created.id, status: "SUCCESS" }, select: { id: true } }),
    );

    const detail = (await getRunDetail(fanOut.id))!;
    expect(detail.event).toMatchObject({ id: created.id, type: "oauth.grant.created", fanOutRunId: fanOut.id });
    expect(detail.deliveries).toEqual([
      expect.objectContaining({ runId: deliveryRunId(deliveryRow.id), status: "completed", target: "Runs receiver" }),
    ]);
    expect(detail.attempts.map((a) => a.outcome)).toEqual(["completed"]);

    const deliveryDetail = (await getRunDetail(deliveryRunId(deliveryRow.id)))!;
    expect(deliveryDetail).toMatchObject({
      source: "delivery",
      status: "completed",
      idempotencyKey: `delivery:${deliveryRow.id}`,
      concurrencyKey: endpoint.id,
      payload: { deliveryId: deliveryRow.id },
      target: { name: "Runs receiver", kind: "endpoint" },
      event: { id: created.id, fanOutRunId: fanOut.id },
    });
    expect(deliveryDetail.attempts).toEqual([
      expect.objectContaining({ number: 1, outcome: "completed", responseStatus: 200 }),
    ]);
  });

  it("cancels a queued run so that the engine never runs it, and records who did", async () => {
    await enqueueTaskRuns(prisma, [
      { taskId: "webhook-event-fanout", payload: { eventId: "never" }, idempotencyKey: "to-cancel", delayMs: 800 },
    ]);
    const run = await prisma.taskRun.findFirstOrThrow({ where: { idempotencyKey: "to-cancel" }, select: { id: true } });
    await cancelRun(run.id, operator);
    // Past its due time, the engine has passed it by.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const after = await prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(after).toMatchObject({ status: "CANCELLED", attempt: 0 });
    expect(after.lastError).toBe(`Cancelled by ${operator.email} from the runs console.`);
    expect(await prisma.taskRunAttempt.count({ where: { runId: run.id } })).toBe(0);
    const detail = (await getRunDetail(run.id))!;
    expect(detail).toMatchObject({ status: "cancelled", canCancel: false });
    expect(detail.actions).toEqual([expect.objectContaining({ kind: "cancel", actorEmail: operator.email })]);

    // Once is enough: a finished run cannot be cancelled, nor can one that does not exist.
    await expect(cancelRun(run.id, operator)).rejects.toMatchObject({ status: 409 });
    await expect(cancelRun(randomUUID(), operator)).rejects.toMatchObject({ status: 404 });
  });

  it("refuses to cancel an executing run", async () => {
    const id = await taskRun(new Date(), { status: "EXECUTING", taskId: "integration-run", runAt: new Date() });
    await prisma.taskRun.update({
      where: { id },
      data: { lockedBy: "elsewhere", lockedUntil: new Date(Date.now() + 60_000) },
    });
    await expect(cancelRun(id, operator)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("this one is executing"),
    });
  });

  it("cancels a queued delivery: it is never sent, and shows as cancelled", async () => {
    const { hook, row } = await endpointDelivery("Never called", {
      body: "{}",
      maxAttempts: 3,
      nextAttemptAt: new Date(Date.now() + 800),
    });
    await cancelRun(deliveryRunId(row.id), operator);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(hook.received).toEqual([]);
    const after = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } });
    expect(after).toMatchObject({ status: "FAILED", nextAttemptAt: null, attemptCount: 0 });
    expect(after.cancelledAt).toEqual(after.completedAt);
    expect(after.lastError).toBe(`Cancelled by ${operator.email} from the runs console.`);
    expect((await getRunDetail(deliveryRunId(row.id)))!).toMatchObject({ status: "cancelled", canReplay: true });
  });

  it("replays a run as a new run with the same payload, linked both ways", async () => {
    const created = await event("oauth.grant.created");
    const original = await taskRun(new Date(), {
      payload: { eventId: created.id },
      idempotencyKey: `oauth.grant.created:${created.id}`,
      status: "FAILED",
    });
    const { runId } = await replayRun(original, operator);
    expect(runId).not.toBe(original);
    const replayed = await waitFor(async () => {
      const run = await prisma.taskRun.findUnique({ where: { id: runId } });
      return run?.status === "COMPLETED" && run;
    });
    expect(replayed).toMatchObject({
      taskId: "webhook-event-fanout",
      payload: { eventId: created.id },
      idempotencyKey: null,
    });
    expect((await getRunDetail(runId))!).toMatchObject({ replayOf: original });
    expect((await getRunDetail(original))!.actions).toEqual([
      expect.objectContaining({ kind: "replay", actorEmail: operator.email, resultRunId: runId }),
    ]);
    await expect(replayRun(randomUUID(), operator)).rejects.toMatchObject({ status: 404 });
  });

  it("replays a finished delivery as one more attempt with the same webhook-id, and refuses an open one", async () => {
    const { hook, row } = await endpointDelivery("Replayed", { body: '{"replay":true}', maxAttempts: 1 });
    await hook.waitForCount(1);
    await waitFor(
      async () => (await prisma.webhookDelivery.findUnique({ where: { id: row.id } }))?.status === "SUCCESS",
    );

    await replayRun(deliveryRunId(row.id), operator);
    await hook.waitForCount(2);
    expect(hook.received.map((request) => request.headers["webhook-id"])).toEqual([row.id, row.id]);
    expect(hook.received.map((request) => request.body)).toEqual(['{"replay":true}', '{"replay":true}']);
    const detail = await waitFor(async () => {
      const found = await getRunDetail(deliveryRunId(row.id));
      return found?.status === "completed" && found.attempts.length === 2 && found;
    });
    expect(detail.actions).toEqual([expect.objectContaining({ kind: "replay", actorEmail: operator.email })]);

    const open = await delivery(new Date(), { status: "RETRYING", nextAttemptAt: new Date(Date.now() + 3_600_000) });
    await expect(replayRun(open, operator)).rejects.toMatchObject({ status: 409 });
  });

  it("reports each queue with the limits its workers run it with", async () => {
    const view = await presentQueues();
    expect(view.aliveWorkers).toBeGreaterThanOrEqual(1);
    expect(view.queues.find((queue) => queue.name === "webhook-event-fanout")).toMatchObject({
      scope: "global",
      limit: 100,
      totalLimit: 100,
    });
    expect(view.queues.find((queue) => queue.name === "webhook-delivery")).toMatchObject({
      scope: "process",
      limit: 400,
      perKey: 100,
    });
  });
});

describe("queues", () => {
  it("shows a hanging target as saturated, with its queued deliveries and how long they have waited", async () => {
    // No engine here: a worker's report and the rows it would leave, written by hand.
    await prisma.engineWorker.deleteMany();
    await prisma.engineWorker.create({
      data: {
        id: "worker-a",
        hostname: "host",
        pid: 1,
        startedAt: new Date(),
        heartbeatAt: new Date(),
        queues: [{ name: "webhook-delivery", taskIds: ["webhook-delivery"], limit: 4, perKey: 2, scope: "process" }],
      },
    });
    const hanging = await createEndpoint(
      { userId: operator.id },
      EndpointCreateSchema.parse({ name: "Hanging", url: "https://hanging.example/hook" }),
    );
    const healthy = await createEndpoint(
      { userId: operator.id },
      EndpointCreateSchema.parse({ name: "Healthy", url: "https://healthy.example/hook" }),
    );
    const row = async (endpointId: string, data: object) =>
      prisma.webhookDelivery.create({
        data: {
          eventId: (await event()).id,
          endpointId,
          eventType: "webhook.test",
          url: "https://x.example/hook",
          body: "{}",
          maxAttempts: 3,
          ...data,
        },
      });
    const before = (await presentQueues()).queues.find((queue) => queue.name === "webhook-delivery")!;
    const leased = { status: "SENDING", lockedBy: "worker-a", lockedUntil: new Date(Date.now() + 60_000) } as const;
    await row(hanging.id, leased);
    await row(hanging.id, leased);
    for (let i = 0; i < 3; i++) await row(hanging.id, { nextAttemptAt: new Date(Date.now() - 90_000) });
    await row(healthy.id, leased);
    await row(healthy.id, { nextAttemptAt: null });

    const deliveries = (await presentQueues()).queues.find((queue) => queue.name === "webhook-delivery")!;
    // Other tests of this file left open deliveries too: the totals grew by exactly these.
    expect({
      inFlight: deliveries.inFlight - before.inFlight,
      queued: deliveries.queued - before.queued,
      held: deliveries.held - before.held,
    }).toEqual({ inFlight: 3, queued: 3, held: 1 });
    expect(deliveries).toMatchObject({ limit: 4, totalLimit: 4, perKey: 2 });
    expect(deliveries.oldestWaitingMs).toBeGreaterThanOrEqual(89_000);
    expect(deliveries.keys[0]).toMatchObject({
      key: hanging.id,
      label: "Hanging (https://hanging.example/hook)",
      inFlight: 2,
      queued: 3,
      saturated: true,
    });
    expect(deliveries.keys[0]!.oldestWaitingMs).toBeGreaterThanOrEqual(89_000);
    expect(deliveries.keys[1]).toMatchObject({ key: healthy.id, inFlight: 1, queued: 0, saturated: false });
  });
});
