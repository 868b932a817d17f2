import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import {
  computeLedger,
  SETTLE_DEADLINE_MS,
  expectAtLeastOnce,
  FAULTS_SCALE,
  printLedger,
  settle,
  type Ledger,
  type ProducedEvent,
} from "../support/faults/ledger";
import { createFaultWorld, startInProcessWorker, type FaultAppSpec, type FaultWorld } from "../support/faults/scenario";
import { waitFor } from "../support/wait";

// Receivers that misbehave, one way each, against the real pipeline: outbox, fan-out task,
// delivery task, embedded engine, HTTP to 127.0.0.1. No crash happens here, so every
// scenario must deliver every event exactly once as the receiver sees it.

const EVENTS = 6 * FAULTS_SCALE;

let worker: Awaited<ReturnType<typeof startInProcessWorker>>;
const worlds: FaultWorld[] = [];

beforeAll(async () => {
  worker = await startInProcessWorker(prisma, process.env.DATABASE_URL as string);
});

afterAll(async () => {
  await worker.stop();
  await Promise.all(worlds.map((world) => world.close()));
});

async function run(
  scenario: string,
  specs: FaultAppSpec[],
): Promise<{ world: FaultWorld; events: ProducedEvent[]; ledger: Ledger }> {
  const startedAt = Date.now();
  const world = await createFaultWorld(prisma, specs);
  worlds.push(world);
  const events: ProducedEvent[] = [];
  // Every other event is left to the outbox sweeper, as when the fast hand-over fails.
  for (let i = 0; i < EVENTS; i++) events.push(await world.produceEvent({ handOver: i % 2 === 0 }));
  await settle(
    prisma,
    events.map((event) => event.eventId),
    SETTLE_DEADLINE_MS,
  );
  const ledger = await computeLedger({ scenario, db: prisma, events, apps: world.apps, startedAt });
  printLedger(ledger);
  return { world, events, ledger };
}

function byDelivery<T extends { deliveryId: string }>(requests: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const request of requests) groups.set(request.deliveryId, [...(groups.get(request.deliveryId) ?? []), request]);
  return [...groups.values()];
}

function attemptsOf(eventIds: string[]) {
  return prisma.webhookDelivery.findMany({
    where: { eventId: { in: eventIds } },
    include: { attempts: { orderBy: { attemptNumber: "asc" } } },
  });
}

describe("receiver faults", () => {
  it("500 twice, then 200: every delivery retried until received, once", async () => {
    const failTwice: FaultAppSpec = { behave: (seen) => ({ status: seen <= 2 ? 500 : 200 }) };
    const { events, ledger } = await run("receiver 500, 500, then 200", [failTwice, failTwice]);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    const deliveries = await attemptsOf(events.map((event) => event.eventId));
    for (const delivery of deliveries) {
      expect(delivery.attempts.map((attempt) => attempt.responseStatus)).toEqual([500, 500, 200]);
    }
  });

  it("a receiver that is down (connection refused), then back: every delivery retried until received", async () => {
    const startedAt = Date.now();
    const world = await createFaultWorld(prisma, [{}, {}]);
    worlds.push(world);
    await Promise.all(world.apps.map((app) => app.receiver.stopListening()));
    const events: ProducedEvent[] = [];
    for (let i = 0; i < EVENTS; i++) events.push(await world.produceEvent({ handOver: i % 2 === 0 }));
    // The first two attempts (immediately, then 20 ms later) find nobody; the third (~1.2 s) finds it back.
    await waitFor(
      async () =>
        (await prisma.deliveryAttempt.count({
          where: { delivery: { eventId: { in: events.map((e) => e.eventId) } } },
        })) >=
        2 * EVENTS * world.apps.length,
      { timeoutMs: SETTLE_DEADLINE_MS },
    );
    await Promise.all(world.apps.map((app) => app.receiver.startListening()));
    await settle(
      prisma,
      events.map((event) => event.eventId),
      SETTLE_DEADLINE_MS,
    );
    const ledger = await computeLedger({
      scenario: "receiver down (refused), then up",
      db: prisma,
      events,
      apps: world.apps,
      startedAt,
    });
    printLedger(ledger);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    for (const delivery of await attemptsOf(events.map((event) => event.eventId))) {
      expect(delivery.attempts.at(-1)?.responseStatus).toBe(200);
      expect(delivery.attempts[0]!.error).toMatch(/ECONNREFUSED/);
    }
  });

  it("429 with Retry-After: 1: the retry waits the second the receiver asked for", async () => {
    const throttled: FaultAppSpec = {
      behave: (seen) => (seen === 1 ? { status: 429, headers: { "Retry-After": "1" } } : { status: 200 }),
    };
    const { world, ledger } = await run("receiver 429 Retry-After: 1", [throttled, throttled]);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    for (const app of world.apps) {
      for (const requests of byDelivery(app.receiver.requests)) {
        expect(requests).toHaveLength(2);
        // The schedule alone would retry after ~20 ms; Retry-After makes it a second.
        expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950);
      }
    }
  });

  it("410 Gone: the app is disabled and sent nothing more; counted as refused, not lost", async () => {
    const { world, events, ledger } = await run("receiver 410 Gone (plus a healthy app)", [
      { behave: () => ({ status: 410 }) },
      { behave: () => ({ status: 200 }) },
    ]);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    const [gone, healthy] = world.apps;
    expect(ledger.refused).toBe(EVENTS);
    expect(ledger.received).toBe(EVENTS);
    // A 410 is never retried: each delivery reached the gone receiver at most once.
    expect(byDelivery(gone!.receiver.requests).every((requests) => requests.length === 1)).toBe(true);
    const disabled = await prisma.oAuthClient.findUniqueOrThrow({ where: { id: gone!.id } });
    expect(disabled.webhookDisabledReason).toMatch(/410 Gone/);

    // Later events go to the healthy app only: no row and no request for the gone one.
    const requestsBefore = gone!.receiver.requests.length;
    const later = [await world.produceEvent(), await world.produceEvent()];
    await settle(
      prisma,
      later.map((event) => event.eventId),
      SETTLE_DEADLINE_MS,
    );
    expect(gone!.receiver.requests.length).toBe(requestsBefore);
    expect(
      await prisma.webhookDelivery.count({
        where: { eventId: { in: later.map((event) => event.eventId) }, oauthClientId: gone!.id },
      }),
    ).toBe(0);
    const afterDisable = await computeLedger({
      scenario: "receiver 410 Gone, later events",
      db: prisma,
      events: [...events, ...later],
      apps: [gone!, healthy!],
      startedAt: Date.now(),
    });
    expectAtLeastOnce(afterDisable, { duplicatesAllowed: false });
    expect(afterDisable.refused).toBe(EVENTS + 2);
  });

  it("a receiver that hangs: the attempt times out and the retry is received", async () => {
    const hangOnce: FaultAppSpec = {
      timeoutMs: 2_000,
      behave: (seen) => (seen === 1 ? { hang: true } : { status: 200 }),
    };
    const { events, ledger } = await run("receiver hangs past the timeout", [hangOnce, hangOnce]);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    for (const delivery of await attemptsOf(events.map((event) => event.eventId))) {
      expect(delivery.attempts.map((attempt) => attempt.responseStatus)).toEqual([null, 200]);
      expect(delivery.attempts[0]!.error).toMatch(/Timed out after 2000 ms/);
    }
  });

  it("a connection reset mid-response: the attempt fails and the retry is received", async () => {
    const resetOnce: FaultAppSpec = {
      behave: (seen) => (seen === 1 ? { resetMidResponse: true } : { status: 200 }),
    };
    const { events, ledger } = await run("receiver resets mid-response", [resetOnce, resetOnce]);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    for (const delivery of await attemptsOf(events.map((event) => event.eventId))) {
      expect(delivery.attempts.map((attempt) => attempt.responseStatus)).toEqual([null, 200]);
      expect(delivery.attempts[0]!.error).toBeTruthy();
    }
  });

  it("a 200 whose body trickles past the timeout: success on the status line, no re-send", async () => {
    const trickle: FaultAppSpec = {
      timeoutMs: 2_000,
      behave: () => ({ trickle: { status: 200, bytes: 60, intervalMs: 100 } }),
    };
    const { events, ledger } = await run("receiver trickles its body slowly", [trickle, trickle]);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    expect(ledger.requests).toBe(ledger.expected);
    for (const delivery of await attemptsOf(events.map((event) => event.eventId))) {
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0]).toMatchObject({ responseStatus: 200 });
      // The deadline covers the body too: a slow receiver costs the timeout, not its whole body.
      expect(delivery.attempts[0]!.durationMs).toBeLessThan(3_500);
    }
  });
});
