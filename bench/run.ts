/**
 * `npm run bench`: end-to-end delivery measured on this machine, against the limit of the
 * same receiver fed straight from memory. Scenarios (issue #8):
 *   (a) EVENTS events × APPS apps as fast as possible;
 *   (b) a steady RATE deliveries/s for STEADY_SECONDS, with Echo's memory sampled;
 *   (c) one event fanned out to FANOUT_APPS apps;
 *   (d) (a) while HANG_FRACTION of the apps never answer (until their timeout);
 *   (e) (a) with 1, 2 and 4 Echo processes (each with its worker) on one PostgreSQL;
 *   (f) (a) with finished deliveries already in the table;
 *   (g) a steady G_RATE events/s published over HTTP (POST /api/v1/events) to G_ENDPOINTS endpoints.
 * Loopback only, bounded counts and deadlines. Prints a table, writes JSON to bench/results/.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { buildSignatureHeaders } from "../app/lib/webhooks/signing.ts";
import { generateWebhookSecret } from "../app/lib/webhooks/secrets.ts";

const knob = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? "a,b,c,d,e,f,g").split(",").map((s) => s.trim()));
const EVENTS = knob("BENCH_EVENTS", 2000);
const APPS = knob("BENCH_APPS", 10);
const USERS = Math.max(1, Math.round(EVENTS / 10));
const DIRECT_REQUESTS = knob("BENCH_DIRECT", 20_000);
const RATE = knob("BENCH_RATE", 1000);
const STEADY_SECONDS = knob("BENCH_STEADY_SECONDS", 60);
const FANOUT_APPS = knob("BENCH_FANOUT_APPS", 1000);
const HANG_FRACTION = knob("BENCH_HANG_FRACTION", 0.1);
const HANG_TIMEOUT_MS = knob("BENCH_HANG_TIMEOUT_MS", 5000);
const WORKERS = (process.env.BENCH_WORKERS ?? "1,2,4").split(",").map(Number);
const DEADLINE_MS = knob("BENCH_DEADLINE_SECONDS", 180) * 1000;
const PRODUCERS = knob("BENCH_PRODUCERS", 16);
const PG_STATS = process.env.BENCH_PG_STATS === "1";
/** BENCH_AUTO_EXPLAIN=<ms>: PostgreSQL logs the plan (with ANALYZE and BUFFERS) of every statement slower than that. */
const AUTO_EXPLAIN_MS = process.env.BENCH_AUTO_EXPLAIN ? Number(process.env.BENCH_AUTO_EXPLAIN) : undefined;
const E_EVENTS = knob("BENCH_E_EVENTS", EVENTS);
/** (f): finished deliveries already in the table (with an attempt each) before (a) runs again. */
const HISTORY_DELIVERIES = knob("BENCH_HISTORY_DELIVERIES", 100_000);
/** History rows are this old, so every count of the run's own rows can leave them out. */
const HISTORY_AGE_DAYS = 10;
const RUN_ROWS_SINCE = () => new Date(Date.now() - 24 * 60 * 60_000);
/** (g): events/s published over HTTP, for how long, to how many endpoints (one user each, with its own key). */
const G_RATE = knob("BENCH_G_RATE", 1000);
const G_SECONDS = knob("BENCH_G_SECONDS", 30);
const G_ENDPOINTS = knob("BENCH_G_ENDPOINTS", 10);
/** (g): HTTP connections the publishers share (requests are sent on schedule, not after the previous answer). */
const G_CONNECTIONS = knob("BENCH_G_CONNECTIONS", 64);
/** (g): 1 sends an Idempotency-Key with every event, as a careful producer does (a transaction per publish). */
const G_IDEMPOTENCY = process.env.BENCH_G_IDEMPOTENCY !== "0";
/** (g): events per request; above 1, POST /api/v1/events/batch (each event with its own key). */
const G_BATCH = Math.max(1, Math.min(100, knob("BENCH_G_BATCH", 1)));

type Receiver = {
  child: ChildProcess;
  ports: number[];
  stats(): Promise<{ count: number; duplicates: number; hung: number; receipts: [string, number][] }>;
  /** Distinct deliveries received so far (cheap: no receipts). */
  count(): Promise<number>;
  reset(): Promise<void>;
};

function startReceiver(): Promise<Receiver> {
  const child = fork(path.resolve("bench/receiver.ts"), { execArgv: ["--import", "tsx"] });
  const ask = <T>(type: string, reply: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (message: { type: string } & T) => {
        if (message.type === reply) {
          child.off("message", onMessage);
          resolve(message);
        }
      };
      child.on("message", onMessage);
      child.send({ type });
    });
  return new Promise((resolve) => {
    child.once("message", (message: { ports: number[] }) =>
      resolve({
        child,
        ports: message.ports,
        stats: () => ask("stats", "stats"),
        count: () => ask<{ count: number }>("count", "count").then((reply) => reply.count),
        reset: () => ask<void>("reset", "reset-done"),
      }),
    );
  });
}

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signed POSTs straight from memory to the receiver: what this machine can do without Echo. */
async function directLimit(port: number): Promise<{ requests: number; seconds: number; perSecond: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64, pipelining: 1 });
  const secret = generateWebhookSecret();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < DIRECT_REQUESTS) {
        const id = `direct-${next++}`;
        const body = JSON.stringify({ event: "integration.connected", id });
        const headers = buildSignatureHeaders({
          body,
          id,
          timestamp: Math.floor(Date.now() / 1000),
          secrets: [secret],
        });
        const response = await pool.request({
          path: "/",
          method: "POST",
          body,
          headers: { ...headers, "content-type": "application/json" },
        });
        await response.body.dump();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: DIRECT_REQUESTS, seconds, perSecond: DIRECT_REQUESTS / seconds };
}

function memoryMb(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0) / 1024;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command (which may contain spaces), from field 3 on: utime is 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

/** Every PostgreSQL server process on the machine (the bench's is the only one it runs). */
function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * Where the machine's CPU went during a scenario: Echo, PostgreSQL, the receiver and the bench
 * process (the producers). PostgreSQL's backends come and go, so each is read at the start and
 * at the end; one that exited meanwhile is missed (connections are pooled, so few do).
 */
function cpuMeter(echoPids: () => number[], receiverPid: number) {
  const read = () => {
    const postgres = new Map(postgresPids().map((pid) => [pid, cpuSeconds(pid)]));
    return {
      echo: echoPids().reduce((sum, pid) => sum + cpuSeconds(pid), 0),
      postgres,
      receiver: cpuSeconds(receiverPid),
      producers: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      at: performance.now(),
    };
  };
  const start = read();
  return () => {
    const end = read();
    let postgres = 0;
    for (const [pid, used] of end.postgres) postgres += used - (start.postgres.get(pid) ?? 0);
    const seconds = (end.at - start.at) / 1000;
    const share = (value: number) => Number((value / seconds).toFixed(2));
    return {
      seconds: Number(seconds.toFixed(2)),
      coresUsed: {
        echo: share(end.echo - start.echo),
        postgres: share(postgres),
        receiver: share(end.receiver - start.receiver),
        producers: share(end.producers - start.producers),
      },
    };
  };
}

type EchoProcess = { child: ChildProcess; pid: number; url: string };

/** Echo processes started and not yet stopped: whatever ends the bench stops them first. */
const echoes = new Set<EchoProcess>();
/** What main() started besides them (receiver, PostgreSQL, work folder), undone newest first. */
const teardown: (() => unknown)[] = [];
let stopping: Promise<void> | undefined;

/** Stops everything the bench started: on a signal, a failure, or the end. */
function stopEverything(): Promise<void> {
  stopping ??= (async () => {
    await Promise.all([...echoes].map(stopEcho));
    for (const step of teardown.reverse()) {
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error("Bench cleanup failed:", error));
    }
  })();
  return stopping;
}

// A supervisor or `kill` signals this process alone (npm execs it): nothing it started may outlive it.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.log(`\n${signal} received: stopping the bench's Echo processes, PostgreSQL and receiver.`);
    void stopEverything().then(() => process.exit(128 + os.constants.signals[signal]));
  });
}

async function startEcho(env: Record<string, string>): Promise<EchoProcess> {
  const port = await freePort();
  // BENCH_PROFILE=1 writes a V8 CPU profile of each Echo process to bench/results/profiles.
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir=bench/results/profiles"] : [];
  // Exactly as `npm start` runs it (package.json): a 32 MB young generation made Echo 18% faster
  // (fewer, cheaper scavenges of the short-lived objects every delivery allocates).
  const child = spawn(
    process.execPath,
    [...profile, "--max-semi-space-size=32", "--import", "tsx", "server/index.ts"],
    {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const echo = { child, pid: child.pid!, url: `http://127.0.0.1:${port}` };
  echoes.add(echo);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Echo is running")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`Echo exited with ${code}`)));
  });
  return echo;
}

async function stopEcho(echo: EchoProcess): Promise<void> {
  echoes.delete(echo);
  if (echo.child.exitCode !== null || echo.child.signalCode !== null) return;
  const exited = new Promise((resolve) => echo.child.once("exit", resolve));
  echo.child.kill("SIGTERM");
  const timer = setTimeout(() => echo.child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

async function main() {
  const workDir = mkdtempSync(path.join(os.tmpdir(), "echo-bench-"));
  teardown.push(() => rmSync(workDir, { recursive: true, force: true }));
  // PostgreSQL runs as its own system user when the bench runs as root.
  chmodSync(workDir, 0o755);
  const receiver = await startReceiver();
  teardown.push(() => receiver.child.connected && receiver.child.send({ type: "stop" }));
  const hookUrl = (i: number, hang = false) =>
    `http://127.0.0.1:${receiver.ports[i % receiver.ports.length]}/${hang ? "hang" : "hook"}/${i}`;
  console.log(
    `Receiver on 127.0.0.1:${receiver.ports.join(",")}; direct-POST limit (${DIRECT_REQUESTS} signed POSTs)…`,
  );
  const direct = await directLimit(receiver.ports[0]!);
  console.log(`Direct limit: ${Math.round(direct.perSecond)}/s`);
  await receiver.reset();

  // One PostgreSQL for every scenario, started exactly as Echo starts its embedded one (fsync
  // on); each scenario truncates the data and starts fresh Echo processes against it, the way
  // a deployment with several processes on one DATABASE_URL runs.
  const { startEmbeddedPostgres } = await import("../app/services/database/embedded-postgres.server.ts");
  const { migrateDatabase } = await import("../app/services/database/migrate.server.ts");
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(workDir, "postgres"),
    port: await freePort(),
    password: randomBytes(12).toString("hex"),
    databaseName: "echo",
    // BENCH_PG_STATS=1: after each scenario, the statements PostgreSQL spent its time on.
    settings: {
      ...(PG_STATS || AUTO_EXPLAIN_MS !== undefined
        ? {
            shared_preload_libraries: [
              PG_STATS && "pg_stat_statements",
              AUTO_EXPLAIN_MS !== undefined && "auto_explain",
            ]
              .filter(Boolean)
              .join(","),
          }
        : {}),
      ...(AUTO_EXPLAIN_MS !== undefined
        ? {
            "auto_explain.log_min_duration": `${AUTO_EXPLAIN_MS}ms`,
            "auto_explain.log_analyze": "on",
            "auto_explain.log_buffers": "on",
          }
        : {}),
    },
    ...(AUTO_EXPLAIN_MS !== undefined
      ? { onLog: (line: string) => appendFileSync(path.resolve("bench/results/postgres.log"), `${line}\n`) }
      : {}),
  });
  teardown.push(() => postgres.stop());
  await migrateDatabase(postgres.url);
  const echoEnv = {
    DATABASE_URL: postgres.url,
    SESSION_SECRET: randomBytes(32).toString("base64"),
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ECHO_DATA_DIR: path.join(workDir, "data"),
    LOG_LEVEL: "warn",
    SEED_DEMO_DATA: "false",
    OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
    NODE_ENV: "production",
  };
  Object.assign(process.env, echoEnv);
  const { prisma, disconnectDatabase } = await import("../app/db.server.ts");
  teardown.push(() => disconnectDatabase(prisma));
  const { encryptAtRest } = await import("../app/services/encryption.server.ts");
  const { handleAccountMessage } = await import("../app/services/integrations/handle-account-message.server.ts");

  async function freshData() {
    await prisma.$executeRawUnsafe(
      `TRUNCATE "User", "OAuthClient", "WebhookEvent", "TaskRun", "IntegrationDefinition", "RateLimitBucket" CASCADE`,
    );
    await prisma.$executeRawUnsafe(`VACUUM ANALYZE`);
    if (PG_STATS) {
      await prisma.$executeRawUnsafe(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
      await prisma.$queryRawUnsafe(`SELECT pg_stat_statements_reset()::text`);
    }
    await receiver.reset();
  }

  async function printTopStatements() {
    if (!PG_STATS) return;
    // Execution time is wall time inside PostgreSQL (waits included), not CPU.
    const top = await prisma.$queryRawUnsafe<unknown[]>(
      `SELECT calls::int, round(total_exec_time)::int AS "total ms", round((total_exec_time / calls)::numeric, 2)::text AS "ms/call",
              rows::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS statement
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC LIMIT 8`,
    );
    console.table(top);
  }

  /** Apps with a webhook URL and secret, users who granted each of them `integration`. */
  async function fixture({ apps, users, hanging = 0 }: { apps: number; users: number; hanging?: number }) {
    const owner = await prisma.user.create({
      data: { email: "bench-owner@example.com", name: "Bench", passwordHash: "x" },
    });
    const definition = await prisma.integrationDefinition.create({
      data: { slug: "bench", name: "Bench", icon: "/icons/linear.svg", authType: "API_KEY" },
      select: { id: true, slug: true, name: true, icon: true },
    });
    const clients = await prisma.oAuthClient.createManyAndReturn({
      data: Array.from({ length: apps }, (_, i) => ({
        clientId: `bench-app-${i}`,
        name: `Bench app ${i}`,
        ownerId: owner.id,
        redirectUris: ["https://bench.example/cb"],
        allowedScopes: ["integration"],
        webhookUrl: hookUrl(i, i < hanging),
        webhookSecret: encryptAtRest(generateWebhookSecret()),
        ...(i < hanging ? { webhookTimeoutMs: HANG_TIMEOUT_MS } : {}),
      })),
      select: { id: true },
    });
    const people = await prisma.user.createManyAndReturn({
      data: Array.from({ length: users }, (_, i) => ({
        email: `bench-${i}@example.com`,
        name: `User ${i}`,
        passwordHash: "x",
      })),
      select: { id: true },
    });
    await prisma.oAuthIntegrationGrant.createMany({
      data: people.flatMap((user) =>
        clients.map((app) => ({ clientId: app.id, userId: user.id, scopes: ["integration"] })),
      ),
    });
    return { definition, users: people };
  }

  type Fixture = Awaited<ReturnType<typeof fixture>>;
  let producerErrors = 0;
  let accountCounter = 0;
  function connect(data: Fixture, i: number) {
    const n = accountCounter++;
    return handleAccountMessage({
      userId: data.users[i % data.users.length]!.id,
      definition: data.definition,
      message: {
        type: "account",
        data: {
          accountId: `acct-${n}`,
          displayName: `Account ${n}`,
          settings: {},
          credentials: { apiKey: randomBytes(8).toString("hex") },
        },
      },
    });
  }

  /** Connects `count` integrations, PRODUCERS at a time, optionally paced at `perSecond` events. */
  async function produce(data: Fixture, count: number, perSecond?: number) {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < count) {
          const i = next++;
          if (perSecond) {
            const due = started + (i / perSecond) * 1000;
            const wait = due - performance.now();
            if (wait > 0) await sleep(wait);
          }
          // A connect that fails (the machine overloaded, a pool timeout) is tried again, as a user would.
          for (let tries = 1; ; tries++) {
            try {
              await connect(data, i);
              break;
            } catch (error) {
              producerErrors++;
              if (tries >= 5) throw error;
              await sleep(100 * tries);
            }
          }
        }
      }),
    );
    return (performance.now() - started) / 1000;
  }

  async function waitForSuccess(expected: number, deadline = Date.now() + DEADLINE_MS) {
    // Counting rows in PostgreSQL while Echo works would take CPU from it (about 1 s of the
    // database's time per 20,000 deliveries): wait on the receiver's count first, then for
    // every delivery to be recorded.
    while ((await receiver.count()) < expected && Date.now() <= deadline) await sleep(100);
    for (;;) {
      const delivered = await prisma.webhookDelivery.count({
        where: { status: "SUCCESS", createdAt: { gte: RUN_ROWS_SINCE() } },
      });
      if (delivered >= expected || Date.now() > deadline) return delivered;
      await sleep(100);
    }
  }

  async function measure(startedAt: number) {
    const stats = await receiver.stats();
    const receipts = new Map(stats.receipts);
    const rows = await prisma.$queryRaw<
      { id: string; createdAt: Date; completedAt: Date; queuedAt: Date; sentAt: Date | null }[]
    >`
      SELECT d.id, e."createdAt", d."completedAt", d."createdAt" AS "queuedAt", a."startedAt" AS "sentAt"
      FROM "WebhookDelivery" d JOIN "WebhookEvent" e ON e.id = d."eventId"
      LEFT JOIN "DeliveryAttempt" a ON a."deliveryId" = d.id AND a."attemptNumber" = 1
      WHERE d.status = 'SUCCESS' AND d."createdAt" >= ${RUN_ROWS_SINCE()}`;
    const sorted = (values: number[]) => values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
    const latencies = sorted(rows.map((row) => (receipts.get(row.id) ?? NaN) - row.createdAt.getTime()));
    // Where the time goes: event -> its delivery rows (outbox and fan-out), -> the first attempt's start
    // (the delivery run's queue and claims), -> the receiver reading it (signing and the POST).
    const stage = (values: number[]) => {
      const ordered = sorted(values);
      return { p50: percentile(ordered, 50), p99: percentile(ordered, 99) };
    };
    const stagesMs = {
      fanOut: stage(rows.map((row) => row.queuedAt.getTime() - row.createdAt.getTime())),
      queue: stage(rows.map((row) => (row.sentAt?.getTime() ?? NaN) - row.queuedAt.getTime())),
      send: stage(rows.map((row) => (receipts.get(row.id) ?? NaN) - (row.sentAt?.getTime() ?? NaN))),
    };
    const lastCompleted = Math.max(startedAt, ...rows.map((row) => row.completedAt.getTime()));
    const attempts = await prisma.deliveryAttempt.count({ where: { startedAt: { gte: RUN_ROWS_SINCE() } } });
    const errors = await prisma.$queryRaw<{ error: string; count: number }[]>`
      SELECT left(error, 120) AS error, count(*)::int AS count FROM "DeliveryAttempt" WHERE error IS NOT NULL AND "startedAt" >= ${RUN_ROWS_SINCE()}
      GROUP BY 1 ORDER BY 2 DESC LIMIT 5`;
    const notDelivered = await prisma.webhookDelivery.count({
      where: { status: { not: "SUCCESS" }, createdAt: { gte: RUN_ROWS_SINCE() } },
    });
    return {
      delivered: rows.length,
      notDelivered,
      attempts,
      errors,
      received: stats.count,
      duplicates: stats.duplicates,
      hungRequests: stats.hung,
      seconds: (lastCompleted - startedAt) / 1000,
      latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
      stagesMs,
    };
  }

  async function withEcho<T>(
    processes: number,
    body: (pids: number[], urls: string[]) => Promise<T>,
  ): Promise<T & { peakMb: number; cpu: ReturnType<ReturnType<typeof cpuMeter>> }> {
    const echoes: EchoProcess[] = [];
    try {
      for (let i = 0; i < processes; i++) echoes.push(await startEcho(echoEnv));
      const meter = cpuMeter(() => echoes.map((echo) => echo.pid), receiver.child.pid!);
      const result = await body(
        echoes.map((echo) => echo.pid),
        echoes.map((echo) => echo.url),
      );
      const cpu = meter();
      return { ...result, cpu, peakMb: Math.max(...echoes.map((echo) => memoryMb(echo.pid, "VmHWM"))) };
    } finally {
      for (const echo of echoes) await stopEcho(echo);
    }
  }

  /**
   * `count` finished deliveries HISTORY_AGE_DAYS old, one attempt each, spread over the fixture's
   * apps and users as a month of real traffic would be, then VACUUM ANALYZE as autovacuum would have.
   */
  async function seedHistory(count: number) {
    const events = Math.ceil(count / APPS);
    await prisma.$executeRawUnsafe(
      `INSERT INTO "WebhookEvent" (id, type, "userId", source, payload, "createdAt", "dispatchedAt")
       SELECT 'history-event-' || g, 'integration.connected', u.id, 'bench-history', '{"history": true}'::jsonb, t, t
       FROM generate_series(1, $1::int) g
       CROSS JOIN LATERAL (SELECT now() - make_interval(days => $2::int) + g * interval '10 ms' AS t) times
       JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total FROM "User" WHERE email LIKE 'bench-%@example.com' AND email <> 'bench-owner@example.com') u
         ON u.n = g % u.total`,
      events,
      HISTORY_AGE_DAYS,
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO "WebhookDelivery" (id, "eventId", "oauthClientId", "eventType", url, body, status, "attemptCount",
                                      "maxAttempts", "nextAttemptAt", "lastStatusCode", "createdAt", "updatedAt", "completedAt")
       SELECT 'history-delivery-' || e.id || '-' || c.id, e.id, c.id, e.type, c."webhookUrl", repeat('x', 400), 'SUCCESS', 1,
              8, NULL, 200, e."createdAt", e."createdAt" + interval '20 ms', e."createdAt" + interval '20 ms'
       FROM "WebhookEvent" e CROSS JOIN "OAuthClient" c WHERE e.source = 'bench-history'
       LIMIT $1::int`,
      count,
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO "DeliveryAttempt" (id, "deliveryId", "attemptNumber", "startedAt", "durationMs", "requestUrl",
                                      "requestHeaders", "responseStatus", "responseBody")
       SELECT 'history-attempt-' || d.id, d.id, 1, d."createdAt", 12, d.url, '{"content-type": "application/json"}'::jsonb, 200, 'ok'
       FROM "WebhookDelivery" d WHERE d.id LIKE 'history-delivery-%'`,
    );
    await prisma.$executeRawUnsafe(`VACUUM ANALYZE`);
  }

  /** (a), (d), (e) and (f): EVENTS × APPS deliveries as fast as the producers go. */
  async function burst(processes: number, hanging = 0, events = EVENTS, history = 0) {
    await freshData();
    const data = await fixture({ apps: APPS, users: USERS, hanging });
    if (history > 0) await seedHistory(history);
    const expected = events * (APPS - hanging);
    return withEcho(processes, async () => {
      const startedAt = Date.now();
      const produceSeconds = await produce(data, events);
      await waitForSuccess(expected);
      const measured = await measure(startedAt);
      return { expected, produceSeconds, ...measured, perSecond: measured.delivered / measured.seconds };
    });
  }

  const results: Record<string, unknown> = {};
  const rows: Record<string, Record<string, string | number>> = {};
  const row = async (
    name: string,
    r: {
      delivered: number;
      expected: number;
      perSecond?: number;
      seconds: number;
      latencyMs: Record<string, number>;
      peakMb: number;
      duplicates: number;
    },
  ) => {
    rows[name] = {
      delivered: `${r.delivered}/${r.expected}`,
      "per s": Math.round(r.perSecond ?? r.delivered / r.seconds),
      ratio: ((r.perSecond ?? r.delivered / r.seconds) / direct.perSecond).toFixed(3),
      seconds: r.seconds.toFixed(2),
      "p50 ms": r.latencyMs.p50!,
      "p95 ms": r.latencyMs.p95!,
      "p99 ms": r.latencyMs.p99!,
      "peak MB": Math.round(r.peakMb),
      dup: r.duplicates,
    };
    console.table({ [name]: rows[name] });
    if ("errors" in r) console.log(`${name} attempt errors:`, JSON.stringify(r.errors));
    if ("cpu" in r) {
      const { seconds, coresUsed } = r.cpu as { seconds: number; coresUsed: Record<string, number> };
      console.log(
        `${name} cores used over ${seconds} s: Echo ${coresUsed.echo}, PostgreSQL ${coresUsed.postgres}, ` +
          `receiver ${coresUsed.receiver}, producers (bench) ${coresUsed.producers} of ${os.cpus().length}`,
      );
    }
    if ("stagesMs" in r) {
      const stages = r.stagesMs as Record<string, { p50: number; p99: number }>;
      console.log(
        `${name} p50 / p99 by stage (ms): event → deliveries ${stages.fanOut!.p50} / ${stages.fanOut!.p99}, ` +
          `→ first attempt ${stages.queue!.p50} / ${stages.queue!.p99}, → received ${stages.send!.p50} / ${stages.send!.p99}`,
      );
    }
    await printTopStatements();
  };

  if (SCENARIOS.has("a")) {
    console.log(`(a) ${EVENTS} events × ${APPS} apps…`);
    const a = await burst(1);
    results.a = a;
    await row("(a) burst", a);
  }

  if (SCENARIOS.has("b")) {
    const eventsPerSecond = RATE / APPS;
    const count = Math.round(eventsPerSecond * STEADY_SECONDS);
    console.log(`(b) ${RATE} deliveries/s for ${STEADY_SECONDS} s (${count} events × ${APPS} apps)…`);
    await freshData();
    const data = await fixture({ apps: APPS, users: USERS });
    const b = await withEcho(1, async ([pid]) => {
      const memory: { second: number; rssMb: number }[] = [];
      const startedAt = Date.now();
      const sampler = setInterval(
        () => memory.push({ second: Math.round((Date.now() - startedAt) / 1000), rssMb: memoryMb(pid!, "VmRSS") }),
        5_000,
      );
      const produceSeconds = await produce(data, count, eventsPerSecond);
      const expected = count * APPS;
      await waitForSuccess(expected);
      clearInterval(sampler);
      const measured = await measure(startedAt);
      return { expected, offeredPerSecond: expected / produceSeconds, produceSeconds, memory, ...measured };
    });
    results.b = b;
    await row("(b) steady", { ...b, perSecond: b.delivered / b.seconds });
    console.log(`(b) Echo RSS every 5 s (MB): ${b.memory.map((m) => Math.round(m.rssMb)).join(" ")}`);
  }

  if (SCENARIOS.has("c")) {
    console.log(`(c) one event × ${FANOUT_APPS} apps…`);
    await freshData();
    const data = await fixture({ apps: FANOUT_APPS, users: 1 });
    const c = await withEcho(1, async () => {
      await sleep(500);
      const startedAt = Date.now();
      await connect(data, 0);
      await waitForSuccess(FANOUT_APPS);
      const measured = await measure(startedAt);
      return { expected: FANOUT_APPS, ...measured };
    });
    results.c = c;
    await row("(c) fan-out", c);
  }

  if (SCENARIOS.has("d")) {
    const hanging = Math.max(1, Math.round(APPS * HANG_FRACTION));
    console.log(`(d) (a) with ${hanging} of ${APPS} apps hanging until their ${HANG_TIMEOUT_MS} ms timeout…`);
    const d = await burst(1, hanging);
    results.d = { ...d, hangingApps: hanging, hangTimeoutMs: HANG_TIMEOUT_MS };
    await row("(d) 10% hang", d);
  }

  if (SCENARIOS.has("e")) {
    for (const workers of WORKERS) {
      console.log(`(e) ${E_EVENTS} events × ${APPS} apps with ${workers} Echo process(es)…`);
      const e = await burst(workers, 0, E_EVENTS);
      results[`e${workers}`] = { workers, ...e };
      await row(`(e) ${workers} worker(s)`, e);
    }
  }

  if (SCENARIOS.has("f")) {
    console.log(`(f) (a) with ${HISTORY_DELIVERIES} finished deliveries already in the table…`);
    const f = await burst(1, 0, EVENTS, HISTORY_DELIVERIES);
    results.f = { ...f, historyDeliveries: HISTORY_DELIVERIES };
    await row("(f) with history", f);
    const a = results.a as { perSecond: number } | undefined;
    if (a) console.log(`(f) / (a): ${(f.perSecond / a.perSecond).toFixed(3)} (target ≥ 0.9)`);
  }

  if (SCENARIOS.has("g")) {
    const count = Math.round(G_RATE * G_SECONDS);
    console.log(
      `(g) ${G_RATE} events/s published over HTTP for ${G_SECONDS} s (${count} events) to ${G_ENDPOINTS} endpoints…`,
    );
    await freshData();
    const { createApiKey } = await import("../app/services/api/api-keys.server.ts");
    const eventType = "bench.order_created";
    await prisma.eventType.create({
      data: {
        name: eventType,
        description: "An order, published by the benchmark.",
        schema: {
          type: "object",
          properties: { id: { type: "string" }, total: { type: "number", minimum: 0 }, currency: { type: "string" } },
          required: ["id", "total", "currency"],
        },
        example: { id: "ord_1", total: 1, currency: "EUR" },
      },
    });
    // One user per endpoint, each publishing with its own key to its own endpoint: every event is one delivery.
    const publishers: { key: string }[] = [];
    for (let i = 0; i < G_ENDPOINTS; i++) {
      const user = await prisma.user.create({
        data: { email: `bench-${i}@example.com`, name: `Publisher ${i}`, passwordHash: "x" },
      });
      await prisma.webhookEndpoint.create({
        data: {
          ownerId: user.id,
          name: `Orders ${i}`,
          url: hookUrl(i),
          secret: encryptAtRest(generateWebhookSecret()),
          eventTypes: [eventType],
          // The per-minute limit (100) would queue nearly everything: the bench measures the pipeline.
          rateLimitPerMinute: 0,
        },
      });
      const key = await createApiKey(prisma, user.id, { name: "bench" });
      if (!key.ok) throw new Error(key.error);
      publishers.push({ key: key.key });
    }
    const g = await withEcho(1, async (_pids, [url]) => {
      const pool = new Pool(url!, { connections: G_CONNECTIONS, pipelining: 1 });
      const latencies: number[] = [];
      let accepted = 0;
      const failures = new Map<string, number>();
      const inFlight: Promise<void>[] = [];
      const event = (i: number) => ({
        eventType,
        payload: { id: `ord_${i}`, total: i % 500, currency: "EUR" },
        ...(G_IDEMPOTENCY && G_BATCH > 1 ? { idempotencyKey: `bench-${i}` } : {}),
      });
      /** Publishes events i … i + G_BATCH - 1 (one request), all for the same publisher. */
      const publish = async (i: number) => {
        const started = performance.now();
        const size = Math.min(G_BATCH, count - i);
        try {
          const response = await pool.request({
            path: G_BATCH > 1 ? "/api/v1/events/batch" : "/api/v1/events",
            method: "POST",
            headers: {
              authorization: `Bearer ${publishers[(i / G_BATCH) % publishers.length]!.key}`,
              "content-type": "application/json",
              ...(G_IDEMPOTENCY && G_BATCH === 1 ? { "idempotency-key": `bench-${i}` } : {}),
            },
            body: JSON.stringify(
              G_BATCH > 1 ? { events: Array.from({ length: size }, (_, k) => event(i + k)) } : event(i),
            ),
          });
          const text = await response.body.text();
          if (response.statusCode === 202) {
            latencies.push(performance.now() - started);
            accepted += size;
          } else {
            const reason = `${response.statusCode} ${text.slice(0, 80)}`;
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
          }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          failures.set(message, (failures.get(message) ?? 0) + 1);
        }
      };
      await sleep(500);
      const startedAt = Date.now();
      const started = performance.now();
      // Open loop: each publish is sent when it is due, whether or not earlier ones were answered.
      for (let i = 0; i < count;) {
        const due = Math.floor(((performance.now() - started) / 1000) * G_RATE) + 1;
        while (i < Math.min(due, count)) {
          inFlight.push(publish(i));
          i += G_BATCH;
        }
        await sleep(2);
      }
      await Promise.all(inFlight);
      const produceSeconds = (performance.now() - started) / 1000;
      await pool.close();
      await waitForSuccess(accepted);
      const measured = await measure(startedAt);
      const sorted = latencies.sort((a, b) => a - b);
      return {
        expected: count,
        accepted,
        offeredPerSecond: count / produceSeconds,
        produceSeconds,
        failures: [...failures.entries()],
        publishLatencyMs: {
          p50: Number(percentile(sorted, 50).toFixed(1)),
          p99: Number(percentile(sorted, 99).toFixed(1)),
          max: Number((sorted.at(-1) ?? NaN).toFixed(1)),
        },
        ...measured,
      };
    });
    results.g = {
      ...g,
      rate: G_RATE,
      seconds: G_SECONDS,
      endpoints: G_ENDPOINTS,
      idempotencyKeys: G_IDEMPOTENCY,
      batch: G_BATCH,
    };
    await row("(g) publish API", { ...g, perSecond: g.delivered / g.seconds });
    console.log(
      `(g) publish latency (POST /api/v1/events${G_BATCH > 1 ? `/batch, ${G_BATCH} events each,` : ""} → 202) p50 ${g.publishLatencyMs.p50} ms, p99 ${g.publishLatencyMs.p99} ms, ` +
        `max ${g.publishLatencyMs.max} ms; ${g.accepted}/${g.expected} accepted at ${Math.round(g.offeredPerSecond)}/s offered` +
        (g.failures.length > 0 ? `; refused or failed: ${JSON.stringify(g.failures)}` : ""),
    );
  }

  const result = {
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    producerErrors,
    knobs: {
      EVENTS,
      E_EVENTS,
      APPS,
      DIRECT_REQUESTS,
      RATE,
      STEADY_SECONDS,
      FANOUT_APPS,
      HANG_FRACTION,
      HANG_TIMEOUT_MS,
      WORKERS,
      HISTORY_DELIVERIES,
      G_RATE,
      G_SECONDS,
      G_ENDPOINTS,
      G_CONNECTIONS,
      G_IDEMPOTENCY,
      G_BATCH,
    },
    direct,
    results,
  };
  console.log(`\nDirect-POST limit: ${Math.round(direct.perSecond)}/s`);
  console.table(rows);
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`Wrote ${file}`);

  await stopEverything();
  process.exit(0);
}

main().catch(async (error: unknown) => {
  // Once a signal is stopping everything, the scenario it interrupted fails as expected.
  if (stopping) return;
  console.error(error);
  await stopEverything();
  process.exit(1);
});
