import path from "node:path";
import pino from "pino";
import type { Database } from "~/db.server";
import { EmbeddedTaskEngine } from "~/services/jobs/embedded-engine.server";
import { loadTaskCatalog, taskFilesIn } from "~/services/jobs/task-catalog.server";
import { dispatchPendingEvents, startOutboxSweeper } from "~/services/webhooks/outbox-dispatcher.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
  webhookSecret,
} from "../fixtures/webhooks";
import { startEchoServer, type RunningEcho } from "../echo-server";
import { startFaultReceiver, type FaultBehaviour } from "./fault-receiver";
import type { FaultApp, ProducedEvent } from "./ledger";

export type FaultAppSpec = {
  behave?: (seenBefore: number, request: { deliveryId: string }) => FaultBehaviour;
  /** 5 s unless the fault is about timing out: generous enough that a loaded machine never times out a healthy answer. */
  timeoutMs?: number;
  /** The first retry's delay; the schedule keeps its shape (20 ms gives 20 ms, 1.2 s, 7.2 s, …). */
  retryBaseDelayMs?: number;
};

/**
 * A user, an integration, and OAuth apps that all hold an active `integration` grant from
 * that user, each with its own misbehaving receiver on 127.0.0.1.
 */
export async function createFaultWorld(db: Database, specs: FaultAppSpec[]) {
  const user = await createUser(db);
  const owner = await createUser(db, "Developer");
  const definition = await createIntegrationDefinition(db);
  const apps: FaultApp[] = [];
  for (const spec of specs) {
    const secret = webhookSecret();
    const receiver = await startFaultReceiver({ secret, behave: spec.behave });
    const app = await createOAuthApp(db, {
      ownerId: owner.id,
      grantUserId: user.id,
      webhookUrl: receiver.url,
      secret,
      timeoutMs: spec.timeoutMs ?? 5_000,
      retryBaseDelayMs: spec.retryBaseDelayMs ?? 20,
    });
    apps.push({ id: app.id, receiver });
  }

  return {
    user,
    apps,
    /**
     * What connecting an integration does: the account and its integration.connected event
     * in one transaction (the outbox), then, unless `handOver` is false, the fast hand-over
     * to the job engine. Without it the outbox sweeper must find the event.
     */
    async produceEvent({ handOver = true }: { handOver?: boolean } = {}): Promise<ProducedEvent> {
      const { account, eventId } = await connectIntegration(db, { userId: user.id, definition });
      if (handOver) await dispatchPendingEvents({ source: `integration:${account.id}` }, db);
      return { eventId, accountId: account.id };
    },
    /** Requests the receivers have seen so far, answered or not. */
    requestCount: () => apps.reduce((sum, app) => sum + app.receiver.requests.length, 0),
    close: () => Promise.all(apps.map((app) => app.receiver.close())),
  };
}

export type FaultWorld = Awaited<ReturnType<typeof createFaultWorld>>;

/**
 * The embedded job engine and the outbox sweeper in this process, as `server/worker.ts`
 * runs them, with a short lease so that lost work comes back within a second.
 */
export async function startInProcessWorker(db: Database, databaseUrl: string) {
  const catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
  const engine = new EmbeddedTaskEngine(catalog, {
    db,
    databaseUrl,
    logger: pino({ level: "silent" }),
    leaseMs: 1_000,
    pollIntervalMs: 50,
  });
  await engine.start();
  const stopSweeper = startOutboxSweeper({ intervalMs: 200, db });
  return {
    stop: async () => {
      await stopSweeper();
      await engine.stop();
    },
  };
}

/** The built app's settings in fault scenarios: a lost run returns after 1 s, the outbox is swept every 200 ms. */
export const FAULT_ECHO_ENV = {
  ENGINE_LEASE_MS: "1000",
  OUTBOX_SWEEP_INTERVAL_MS: "200",
  SEED_DEMO_DATA: "false",
  OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
};
/** Start-up takes ~5 s on an idle 2-core machine; a shared, busy one can take many times that. */
export const ECHO_START_TIMEOUT_MS = 60_000;

/** The built app as the fault scenarios run it; `started` collects it, so afterAll can kill whatever is left. */
export async function startFaultEcho(
  started: RunningEcho[],
  {
    databaseUrl = process.env.DATABASE_URL as string,
    env = {},
  }: { databaseUrl?: string; env?: Record<string, string> } = {},
): Promise<RunningEcho> {
  const echo = await startEchoServer({
    databaseUrl,
    env: { ...FAULT_ECHO_ENV, ...env },
    timeoutMs: ECHO_START_TIMEOUT_MS,
  });
  started.push(echo);
  return echo;
}
