/**
 * `npm run bench`: measured end-to-end delivery on this machine, against the limit of the
 * same receiver fed straight from memory. Scenario (a) so far: 2,000 events × 10 apps.
 * Prints a table and writes JSON to bench/results/.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { buildSignatureHeaders } from "../app/lib/webhooks/signing.ts";
import { generateWebhookSecret } from "../app/lib/webhooks/secrets.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const APPS = Number(process.env.BENCH_APPS ?? 10);
const USERS = Math.max(1, Math.round(EVENTS / 10));
const DIRECT_REQUESTS = Number(process.env.BENCH_DIRECT ?? 20_000);

type ReceiverStats = { count: number; duplicates: number; receipts: [string, number][] };

function startReceiver(): Promise<{
  child: ChildProcess;
  port: number;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
}> {
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
    child.once("message", (message: { port: number }) =>
      resolve({
        child,
        port: message.port,
        stats: () => ask<ReceiverStats>("stats", "stats"),
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

function peakMemoryMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
  } catch {
    return NaN;
  }
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "echo-bench-"));
  chmodSync(dataDir, 0o755);
  const receiver = await startReceiver();
  console.log(
    `Receiver on 127.0.0.1:${receiver.port}; measuring the direct-POST limit (${DIRECT_REQUESTS} signed POSTs)…`,
  );
  const direct = await directLimit(receiver.port);
  await receiver.reset();

  const port = await freePort();
  const pgPort = await freePort();
  const echo = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    env: {
      ...process.env,
      ECHO_DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      LOG_LEVEL: "warn",
      SEED_DEMO_DATA: "false",
      OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    echo.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Echo is running")) resolve();
    });
    echo.once("exit", (code) => reject(new Error(`Echo exited with ${code}`)));
  });

  // The benchmark plays the users: it connects integrations through the same service the
  // connect flow calls, against Echo's own database.
  const secrets = JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8")) as {
    encryptionKey: string;
    sessionSecret: string;
    postgresPassword: string;
  };
  Object.assign(process.env, {
    DATABASE_URL: `postgresql://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${pgPort}/echo`,
    SESSION_SECRET: secrets.sessionSecret,
    ENCRYPTION_KEY: secrets.encryptionKey,
    LOG_LEVEL: "warn",
  });
  const { prisma } = await import("../app/db.server.ts");
  const { encryptAtRest } = await import("../app/services/encryption.server.ts");
  const { handleAccountMessage } = await import("../app/services/integrations/handle-account-message.server.ts");

  const owner = await prisma.user.create({
    data: { email: "bench-owner@example.com", name: "Bench", passwordHash: "x" },
  });
  const definition = await prisma.integrationDefinition.create({
    data: { slug: "bench", name: "Bench", icon: "/icons/linear.svg", authType: "API_KEY" },
    select: { id: true, slug: true, name: true, icon: true },
  });
  const apps = await Promise.all(
    Array.from({ length: APPS }, (_, i) =>
      prisma.oAuthClient.create({
        data: {
          clientId: `bench-app-${i}`,
          name: `Bench app ${i}`,
          ownerId: owner.id,
          redirectUris: ["https://bench.example/cb"],
          allowedScopes: ["integration"],
          webhookUrl: `http://127.0.0.1:${receiver.port}/hook/${i}`,
          webhookSecret: encryptAtRest(generateWebhookSecret()),
        },
        select: { id: true },
      }),
    ),
  );
  const users: { id: string }[] = [];
  for (let i = 0; i < USERS; i++) {
    users.push(
      await prisma.user.create({
        data: { email: `bench-${i}@example.com`, name: `User ${i}`, passwordHash: "x" },
        select: { id: true },
      }),
    );
  }
  await prisma.oAuthIntegrationGrant.createMany({
    data: users.flatMap((user) => apps.map((app) => ({ clientId: app.id, userId: user.id, scopes: ["integration"] }))),
  });

  const expected = EVENTS * APPS;
  console.log(`Scenario (a): ${EVENTS} events × ${APPS} apps = ${expected} deliveries…`);
  const started = Date.now();
  let nextEvent = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (nextEvent < EVENTS) {
        const i = nextEvent++;
        await handleAccountMessage({
          userId: users[i % USERS]!.id,
          definition,
          message: {
            type: "account",
            data: {
              accountId: `acct-${i}`,
              displayName: `Account ${i}`,
              settings: {},
              credentials: { apiKey: randomBytes(8).toString("hex") },
            },
          },
        });
      }
    }),
  );
  const producedSeconds = (Date.now() - started) / 1000;

  const deadline = Date.now() + 15 * 60_000;
  let delivered = 0;
  for (;;) {
    delivered = await prisma.webhookDelivery.count({ where: { status: "SUCCESS" } });
    if (delivered >= expected || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = (Date.now() - started) / 1000;
  const stats = await receiver.stats();
  const receipts = new Map(stats.receipts);
  const rows = await prisma.$queryRaw<{ id: string; createdAt: Date }[]>`
    SELECT d.id, e."createdAt" FROM "WebhookDelivery" d JOIN "WebhookEvent" e ON e.id = d."eventId" WHERE d.status = 'SUCCESS'`;
  const latencies = rows
    .map((row) => (receipts.get(row.id) ?? NaN) - row.createdAt.getTime())
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  const failed = await prisma.webhookDelivery.count({ where: { status: { not: "SUCCESS" } } });
  const memory = peakMemoryMb(echo.pid!);

  const result = {
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    direct,
    scenarioA: {
      events: EVENTS,
      apps: APPS,
      expected,
      delivered,
      notDelivered: failed,
      received: stats.count,
      duplicates: stats.duplicates,
      produceSeconds: producedSeconds,
      seconds,
      perSecond: delivered / seconds,
      ratioToDirect: delivered / seconds / direct.perSecond,
      latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
      serverPeakMemoryMb: memory,
    },
  };
  console.table({
    "direct POST limit": { "per second": Math.round(direct.perSecond), seconds: direct.seconds.toFixed(1) },
    "(a) durable deliveries": { "per second": Math.round(result.scenarioA.perSecond), seconds: seconds.toFixed(1) },
  });
  console.log(
    `(a) ${delivered}/${expected} delivered, ${stats.duplicates} duplicates, ratio to direct ${result.scenarioA.ratioToDirect.toFixed(3)}, ` +
      `latency p50 ${result.scenarioA.latencyMs.p50} ms, p95 ${result.scenarioA.latencyMs.p95} ms, p99 ${result.scenarioA.latencyMs.p99} ms, ` +
      `server peak memory ${memory.toFixed(0)} MB`,
  );
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`Wrote ${file}`);

  await prisma.$disconnect();
  echo.kill("SIGTERM");
  await new Promise((resolve) => echo.once("exit", resolve));
  receiver.child.send({ type: "stop" });
  process.exit(delivered >= expected ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
