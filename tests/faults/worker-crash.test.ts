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
} from "../support/faults/ledger";
import { createFaultWorld, startFaultEcho, type FaultWorld } from "../support/faults/scenario";
import { waitFor } from "../support/wait";

// The built app (`server/index.ts`, as `npm start` runs it) killed with SIGKILL while
// receivers hold its requests, then started again, while events keep coming. Requires
// `npx remix build`. A receiver that answered just before the kill may get that delivery
// again: at-least-once allows it, and the ledger counts it.

const EVENTS = 16 * FAULTS_SCALE;
const KILLS = Math.min(FAULTS_SCALE, 4);
const servers: RunningEcho[] = [];
let world: FaultWorld | undefined;

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  await world?.close();
});

function startEcho(): Promise<RunningEcho> {
  return startFaultEcho(servers);
}

describe("the worker killed with SIGKILL mid-delivery", () => {
  it("delivers every event after the restart: duplicates possible, nothing lost", async () => {
    const startedAt = Date.now();
    // 300 ms per answer keeps several deliveries in flight at any moment. The 5 s timeout is
    // never reached by a healthy answer, so every duplicate counted comes from a kill.
    const slow = { behave: () => ({ status: 200, delayMs: 300 }) };
    world = await createFaultWorld(prisma, [slow, slow]);
    const requestCount = world.requestCount;

    let echo = await startEcho();
    const events: Awaited<ReturnType<FaultWorld["produceEvent"]>>[] = [];
    // Events keep coming, crash or not: the outbox holds them while no worker runs.
    const producing = (async () => {
      for (let i = 0; i < EVENTS; i++) {
        events.push(await world!.produceEvent({ handOver: i % 2 === 0 }));
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    })();

    const expected = EVENTS * world.apps.length;
    for (let kill = 1; kill <= KILLS; kill++) {
      const before = requestCount();
      // The kill lands while a receiver holds a request (it answers after 300 ms).
      await waitFor(async () => requestCount() >= Math.max(before + 1, (kill * expected) / (KILLS + 2)), {
        timeoutMs: 20_000,
      });
      expect(await echo.stop("SIGKILL")).toBe(null);
      echo = await startEcho();
    }
    await producing;

    const eventIds = events.map((event) => event.eventId);
    await settle(prisma, eventIds, SETTLE_DEADLINE_MS);
    const ledger = await computeLedger({
      scenario: `worker SIGKILLed mid-delivery (${KILLS}x)`,
      db: prisma,
      events,
      apps: world.apps,
      startedAt,
    });
    printLedger(ledger);
    expectAtLeastOnce(ledger, { duplicatesAllowed: true });
    // The kill really interrupted deliveries: their log shows the attempt that died with the worker.
    const interrupted = await prisma.deliveryAttempt.count({
      where: { delivery: { eventId: { in: eventIds } }, error: { contains: "worker stopped during this attempt" } },
    });
    expect(interrupted).toBeGreaterThan(0);
    expect(await echo.stop()).toBe(0);
  });
});
