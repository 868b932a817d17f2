import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabaseClient, type Database } from "~/db.server";
import { startEmbeddedPostgres, type RunningPostgres } from "~/services/database/embedded-postgres.server";
import { migrateDatabase } from "~/services/database/migrate.server";
import { findFreePort, type RunningEcho } from "../support/echo-server";
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

// PostgreSQL itself restarted (fast shutdown: every connection is cut) while the built app
// is mid-delivery. This file has a PostgreSQL of its own, so restarting it disturbs no other
// test file. The app must ride it out, reconnect, and deliver everything.

const EVENTS = 12 * FAULTS_SCALE;
const RESTARTS = Math.min(FAULTS_SCALE, 3);
const DOWN_MS = 1_500;

let tempDir: string;
let port: number;
let postgres: RunningPostgres;
let db: Database;
let world: FaultWorld | undefined;
const servers: RunningEcho[] = [];

function startPostgres(): Promise<RunningPostgres> {
  return startEmbeddedPostgres({
    dataDir: path.join(tempDir, "data"),
    port,
    password: "echo-faults",
    databaseName: "echo_faults",
    fsync: false,
  });
}

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), "echo-faults-pg-"));
  // PostgreSQL (user 'postgres' when we are root) must reach inside.
  await chmod(tempDir, 0o755);
  port = await findFreePort();
  postgres = await startPostgres();
  await migrateDatabase(postgres.url);
  db = createDatabaseClient(postgres.url, { max: 4 });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop("SIGKILL")));
  await world?.close();
  await db?.$disconnect();
  await postgres?.stop();
  await rm(tempDir, { recursive: true, force: true });
});

describe("PostgreSQL restarted mid-run", () => {
  it("the app reconnects and delivers every event: duplicates possible, nothing lost", async () => {
    const startedAt = Date.now();
    // The 5 s timeout is never reached by a healthy answer: every duplicate comes from the restart.
    const slow = { behave: () => ({ status: 200, delayMs: 300 }) };
    world = await createFaultWorld(db, [slow, slow]);
    const requestCount = world.requestCount;
    const echo = await startFaultEcho(servers, { databaseUrl: postgres.url });

    const events: ProducedEvent[] = [];
    const perRound = Math.ceil(EVENTS / (RESTARTS + 1));
    for (let restart = 0; restart <= RESTARTS; restart++) {
      for (let i = 0; i < perRound && events.length < EVENTS; i++) {
        events.push(await world.produceEvent({ handOver: i % 2 === 0 }));
      }
      if (restart === RESTARTS) break;
      // Cut the database while a receiver holds a request (it answers after 300 ms).
      const before = requestCount();
      await waitFor(async () => requestCount() > before, { timeoutMs: 20_000 });
      await postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
      postgres = await startPostgres();
    }

    await settle(
      db,
      events.map((event) => event.eventId),
      SETTLE_DEADLINE_MS,
    );
    const ledger = await computeLedger({
      scenario: `PostgreSQL restarted mid-run (${RESTARTS}x)`,
      db,
      events,
      apps: world.apps,
      startedAt,
    });
    printLedger(ledger);
    expectAtLeastOnce(ledger, { duplicatesAllowed: true });
    // Still the same process, never restarted: it stops cleanly when asked.
    expect(await echo.stop(), echo.output()).toBe(0);
  });
});
