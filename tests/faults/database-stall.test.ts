import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import {
  computeLedger,
  SETTLE_DEADLINE_MS,
  expectAtLeastOnce,
  FAULTS_SCALE,
  printLedger,
  settle,
  type ProducedEvent,
} from "../support/faults/ledger";
import { createFaultWorld, startInProcessWorker, type FaultWorld } from "../support/faults/scenario";
import { waitFor } from "../support/wait";

// The database stalls while deliveries are in flight: every connection of the app's pool is
// busy with slow queries for a few seconds (a slow report, lock waits, a saturated server).
// Nothing crashes, so nothing may be lost and nothing may be sent twice: the outcome of each
// request already sent must still be recorded once the database answers again.

const EVENTS = 6 * FAULTS_SCALE;
const POOL_SIZE = 10; // createDatabaseClient's default, which `~/db.server` uses.
const STALL_SECONDS = 3;

let worker: Awaited<ReturnType<typeof startInProcessWorker>>;
let world: FaultWorld | undefined;

beforeAll(async () => {
  worker = await startInProcessWorker(prisma, process.env.DATABASE_URL as string);
});

afterAll(async () => {
  await worker.stop();
  await world?.close();
});

describe("the database stalls mid-delivery", () => {
  it("records every outcome once it answers again: nothing lost, nothing sent twice", async () => {
    const startedAt = Date.now();
    // Receivers take 300 ms: the stall begins while they hold Echo's requests.
    const slow = { behave: () => ({ status: 200, delayMs: 300 }) };
    world = await createFaultWorld(prisma, [slow, slow]);
    const requestCount = world.requestCount;

    const events: ProducedEvent[] = [];
    for (let i = 0; i < EVENTS; i++) events.push(await world.produceEvent());
    await waitFor(async () => requestCount() >= 1, { timeoutMs: 20_000 });
    const stall = Promise.all(
      Array.from({ length: POOL_SIZE }, () => prisma.$executeRaw`SELECT pg_sleep(${STALL_SECONDS})`),
    );
    await stall;

    await settle(
      prisma,
      events.map((event) => event.eventId),
      SETTLE_DEADLINE_MS,
    );
    const ledger = await computeLedger({
      scenario: `database stalls ${STALL_SECONDS} s mid-delivery`,
      db: prisma,
      events,
      apps: world.apps,
      startedAt,
    });
    printLedger(ledger);
    expectAtLeastOnce(ledger, { duplicatesAllowed: false });
    expect(ledger.requests).toBe(ledger.expected);
  });
});
