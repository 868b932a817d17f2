import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import type { RunningEcho } from "../support/echo-server";
import {
  computeLedger,
  SETTLE_DEADLINE_MS,
  expectAtLeastOnce,
  FAULTS_SCALE,
  printLedger,
  settle,
  type ProducedEvent,
} from "../support/faults/ledger";
import { createFaultWorld, startFaultEcho, type FaultWorld } from "../support/faults/scenario";
import { waitFor } from "../support/wait";

// Events written while no worker runs at all (some only in the outbox, some already queued
// as runs), then the built app started: it must deliver them all. Larger runs also stop a
// running app (SIGTERM) mid-batch first. No crash: everything is received exactly once.

const EVENTS = 12 * FAULTS_SCALE;
const servers: RunningEcho[] = [];
let world: FaultWorld | undefined;

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  await world?.close();
});

function startEcho(env: Record<string, string> = {}): Promise<RunningEcho> {
  return startFaultEcho(servers, { env });
}

describe("the app restarted while events wait in the outbox", () => {
  it("delivers what was written while no worker ran, and nothing twice", async () => {
    const startedAt = Date.now();
    const slow = { behave: () => ({ status: 200, delayMs: 200 }) };
    world = await createFaultWorld(prisma, [slow, slow]);
    const requestCount = world.requestCount;
    const events: ProducedEvent[] = [];

    // Larger runs first stop a running Echo the ordinary way (SIGTERM) while receivers hold
    // its requests: a graceful stop finishes what it started and re-sends nothing. (Another
    // two 5 s start-ups, so not in `npm test`'s bounded run.)
    const thorough = FAULTS_SCALE > 1;
    if (thorough) {
      const first = await startEcho();
      for (let i = 0; i < EVENTS / 2; i++) events.push(await world.produceEvent());
      await waitFor(async () => requestCount() >= 2, { timeoutMs: 20_000 });
      expect(await first.stop("SIGTERM")).toBe(0);
    }

    // Events written with no worker anywhere: every other one only in the outbox, the others
    // already handed over as queued runs.
    const sentBefore = requestCount();
    while (events.length < EVENTS) events.push(await world.produceEvent({ handOver: events.length % 2 === 0 }));
    const waiting = await prisma.webhookEvent.count({
      where: { id: { in: events.map((event) => event.eventId) }, dispatchedAt: null },
    });
    expect(waiting).toBeGreaterThanOrEqual(EVENTS / 4);
    if (thorough) {
      // A web-only instance (WORKER_ENABLED=false) neither sweeps the outbox nor sends anything.
      const webOnly = await startEcho({ WORKER_ENABLED: "false" });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(requestCount()).toBe(sentBefore);
      expect(await webOnly.stop("SIGTERM")).toBe(0);
    }

    const second = await startEcho();
    await settle(
      prisma,
      events.map((event) => event.eventId),
      SETTLE_DEADLINE_MS,
    );
    const ledger = await computeLedger({
      scenario: thorough ? "app restarted (SIGTERM), outbox waiting" : "app started with events in the outbox",
      db: prisma,
      events,
      apps: world.apps,
      startedAt,
    });
    printLedger(ledger);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    expect(ledger.requests).toBe(ledger.expected);
    expect(await second.stop()).toBe(0);
  });
});
