/**
 * `npm run bench:runs`: how long the runs console takes with RUNS_BENCH_RUNS runs in its tables
 * (default 100,000: half TaskRuns, half deliveries, each with an attempt, a few days of history with
 * a live backlog at the front). Starts its own PostgreSQL (as Echo starts its embedded one) and the
 * built Echo (`npm run build` first) with no worker, so the rows stay as seeded; signs in as an
 * operator and requests each page RUNS_BENCH_REQUESTS times, one at a time. Reports, per page, the
 * loader's own time (its Server-Timing header: the server's work for the page's data) and the whole
 * response as the client saw it on loopback (data, rendering and HTTP), p50 / p95 / max.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { type CookieJar, csrfTokenIn, fetchWithJar, logInOverHttp } from "../tests/support/http-session.ts";

const RUNS = Number(process.env.RUNS_BENCH_RUNS ?? 100_000);
const REQUESTS = Number(process.env.RUNS_BENCH_REQUESTS ?? 20);
const TASK_RUNS = Math.floor(RUNS / 2);
const DELIVERIES = RUNS - TASK_RUNS;
const PASSWORD = "runs-bench-password";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Seeds the tables as a few busy days leave them: mostly finished runs, a live front. */
export async function seed(client: pg.Client, passwordHash: string) {
  const started = performance.now();
  await client.query(
    `INSERT INTO "User" (id, email, name, "passwordHash", "isOperator", "updatedAt")
     VALUES ('bench-operator', 'ops@bench.local', 'Ops', $1, true, now()), ('bench-user', 'user@bench.local', 'User', $1, false, now())`,
    [passwordHash],
  );
  await client.query(
    `INSERT INTO "WebhookEndpoint" (id, "ownerId", name, url, secret, "eventTypes", "updatedAt")
     SELECT 'bench-endpoint-' || g, 'bench-user', 'Receiver ' || g, 'https://receiver-' || g || '.example/hook', 'unused', '{}', now()
     FROM generate_series(1, 20) g`,
  );
  // One event a run: its fan-out is a TaskRun, its delivery a delivery run. Newest first: g = 1 is now.
  await client.query(
    `INSERT INTO "WebhookEvent" (id, type, "userId", source, payload, "createdAt", "dispatchedAt")
     SELECT 'bench-event-' || g, CASE WHEN g % 2 = 0 THEN 'integration.connected' ELSE 'oauth.grant.created' END,
            'bench-user', 'bench', '{"bench": true}'::jsonb, now() - g * interval '5 seconds', now() - g * interval '5 seconds'
     FROM generate_series(1, $1::int) g`,
    [Math.max(TASK_RUNS, DELIVERIES)],
  );
  await client.query(
    `INSERT INTO "TaskRun" (id, "taskId", payload, status, attempt, "runAt", "lockedUntil", "lockedBy", "idempotencyKey",
                            "lastError", "attemptStartedAt", "createdAt", "updatedAt", "completedAt")
     SELECT gen_random_uuid()::text, task, payload, status::"TaskRunStatus", attempt, run_at,
            CASE WHEN status = 'EXECUTING' THEN now() + interval '30 seconds' END,
            CASE WHEN status = 'EXECUTING' THEN 'bench-worker' END,
            key, CASE WHEN status IN ('FAILED', 'CANCELLED') OR attempt > 1 THEN 'Error: bench failure' END,
            created + interval '20 milliseconds', created, created,
            CASE WHEN status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN created + interval '40 milliseconds' END
     FROM (
       SELECT g, now() - g * interval '5 seconds' AS created,
              CASE WHEN g % 100 = 3 THEN 'integration-health-check'
                   WHEN g % 2 = 0 THEN 'oauth-integration-webhook-delivery' ELSE 'webhook-event-fanout' END AS task,
              CASE WHEN g % 100 = 3 THEN jsonb_build_object('integrationAccountId', 'acct-' || g)
                   ELSE jsonb_build_object('eventId', 'bench-event-' || g) END AS payload,
              CASE WHEN g % 100 = 3 THEN 'health:' || g
                   WHEN g % 2 = 0 THEN 'integration.connected:bench-event-' || g ELSE 'oauth.grant.created:bench-event-' || g END AS key,
              CASE WHEN g <= 30 AND g % 3 = 2 THEN 'EXECUTING'
                   WHEN g <= 300 AND g % 4 = 1 THEN 'QUEUED'
                   WHEN g % 50 = 0 THEN 'FAILED'
                   WHEN g % 500 = 7 THEN 'CANCELLED'
                   ELSE 'COMPLETED' END AS status,
              CASE WHEN g <= 300 AND g % 8 = 1 THEN 2 WHEN g <= 300 AND g % 4 = 1 THEN 0 ELSE 1 END AS attempt,
              CASE WHEN g <= 300 AND g % 4 = 1 THEN now() + interval '1 hour' ELSE now() - g * interval '5 seconds' END AS run_at
       FROM generate_series(1, $1::int) g
     ) runs`,
    [TASK_RUNS],
  );
  await client.query(
    `INSERT INTO "TaskRunAttempt" ("runId", "attemptNumber", "startedAt", "endedAt", outcome, "workerId", error, stack)
     SELECT id, 1, "createdAt" + interval '20 milliseconds', "createdAt" + interval '40 milliseconds',
            CASE WHEN status = 'FAILED' THEN 'FAILED'::"TaskRunAttemptOutcome" ELSE 'COMPLETED'::"TaskRunAttemptOutcome" END,
            'bench-worker', "lastError", CASE WHEN status = 'FAILED' THEN 'Error: bench failure\n    at fanOutEvents (integration-fanout.server.ts:1:1)' END
     FROM "TaskRun" WHERE status IN ('COMPLETED', 'FAILED')`,
  );
  await client.query(
    `INSERT INTO "WebhookDelivery" (id, "eventId", "endpointId", "eventType", url, body, status, "attemptCount", "maxAttempts",
                                    "nextAttemptAt", "lockedUntil", "lockedBy", "lastStatusCode", "lastError", "createdAt",
                                    "updatedAt", "completedAt", "cancelledAt")
     SELECT gen_random_uuid()::text, 'bench-event-' || g, 'bench-endpoint-' || (g % 20 + 1), 'integration.connected',
            'https://receiver-' || (g % 20 + 1) || '.example/hook', repeat('x', 400), status::"WebhookDeliveryStatus",
            CASE WHEN status = 'PENDING' THEN 0 ELSE 1 END, 8,
            CASE WHEN status IN ('PENDING', 'RETRYING') THEN now() + interval '1 hour' WHEN status = 'SENDING' THEN created END,
            CASE WHEN status = 'SENDING' THEN now() + interval '35 seconds' END,
            CASE WHEN status = 'SENDING' THEN 'bench-worker' END,
            CASE WHEN status = 'SUCCESS' THEN 200 WHEN status IN ('FAILED', 'RETRYING') THEN 503 END,
            CASE WHEN status IN ('FAILED', 'RETRYING') THEN 'HTTP 503' END,
            created, created,
            CASE WHEN status IN ('SUCCESS', 'FAILED') THEN created + interval '30 milliseconds' END,
            CASE WHEN g % 1000 = 11 THEN created + interval '30 milliseconds' END
     FROM (
       SELECT g, now() - g * interval '5 seconds' + interval '2 milliseconds' AS created,
              CASE WHEN g <= 20 AND g % 2 = 0 THEN 'SENDING'
                   WHEN g <= 300 AND g % 5 = 1 THEN 'PENDING'
                   WHEN g <= 300 AND g % 5 = 2 THEN 'RETRYING'
                   WHEN g % 50 = 0 OR g % 1000 = 11 THEN 'FAILED'
                   ELSE 'SUCCESS' END AS status
       FROM generate_series(1, $1::int) g
     ) deliveries`,
    [DELIVERIES],
  );
  await client.query(
    `INSERT INTO "DeliveryAttempt" (id, "deliveryId", "attemptNumber", "startedAt", "durationMs", "requestUrl", "requestHeaders",
                                    "responseStatus", "responseBody")
     SELECT gen_random_uuid()::text, id, 1, "createdAt", 12, url, '{"content-type": "application/json"}'::jsonb,
            "lastStatusCode", 'ok'
     FROM "WebhookDelivery" WHERE "attemptCount" > 0`,
  );
  await client.query(
    `INSERT INTO "EngineWorker" (id, hostname, pid, "startedAt", "heartbeatAt", queues)
     VALUES ('bench-worker', 'bench', 1, now(), now() + interval '1 day', $1::jsonb)`,
    [
      JSON.stringify([
        { name: "webhook-event-fanout", taskIds: ["webhook-event-fanout"], limit: 100, perKey: null, scope: "global" },
        {
          name: "oauth-integration-webhook-delivery",
          taskIds: ["oauth-integration-webhook-delivery"],
          limit: 100,
          perKey: null,
          scope: "global",
        },
        { name: "webhook-delivery", taskIds: ["webhook-delivery"], limit: 400, perKey: 100, scope: "process" },
      ]),
    ],
  );
  await client.query(`VACUUM ANALYZE`);
  const counts = await client.query<{ runs: number; deliveries: number }>(
    `SELECT (SELECT count(*) FROM "TaskRun")::int AS runs, (SELECT count(*) FROM "WebhookDelivery")::int AS deliveries`,
  );
  console.log(
    `Seeded ${counts.rows[0]!.runs.toLocaleString("en-US")} TaskRuns and ${counts.rows[0]!.deliveries.toLocaleString("en-US")} deliveries in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const ids = await client.query<{ failed: string; fanOut: string; delivery: string; event: string }>(
    `SELECT (SELECT id FROM "TaskRun" WHERE status = 'FAILED' ORDER BY "createdAt" DESC LIMIT 1) AS failed,
            (SELECT id FROM "TaskRun" WHERE "taskId" = 'webhook-event-fanout' AND status = 'COMPLETED'
               ORDER BY "createdAt" LIMIT 1 OFFSET 20000) AS "fanOut",
            (SELECT id FROM "WebhookDelivery" ORDER BY "createdAt" LIMIT 1 OFFSET 30000) AS delivery,
            'bench-event-25000' AS event`,
  );
  return ids.rows[0]!;
}

async function main() {
  const workDir = mkdtempSync(path.join(os.tmpdir(), "echo-runs-bench-"));
  chmodSync(workDir, 0o755);
  const { startEmbeddedPostgres } = await import("../app/services/database/embedded-postgres.server.ts");
  const { migrateDatabase } = await import("../app/services/database/migrate.server.ts");
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(workDir, "postgres"),
    port: await freePort(),
    password: randomBytes(12).toString("hex"),
    databaseName: "echo",
  });
  let echo: ReturnType<typeof spawn> | undefined;
  try {
    await migrateDatabase(postgres.url);
    process.env.SESSION_SECRET ??= randomBytes(32).toString("base64");
    const { hashPassword } = await import("../app/services/auth/password.server.ts");
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const ids = await seed(client, await hashPassword(PASSWORD));
    await client.end();

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    echo = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: postgres.url,
        SESSION_SECRET: randomBytes(32).toString("base64"),
        ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        ECHO_DATA_DIR: path.join(workDir, "data"),
        PORT: String(port),
        APP_URL: url,
        LOG_LEVEL: "warn",
        SEED_DEMO_DATA: "false",
        WORKER_ENABLED: "false",
        NODE_ENV: "production",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("Echo did not start within 60 s")), 60_000);
      echo!.stdout!.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("Echo is running at")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const jar = await logInOverHttp(url, "ops@bench.local", PASSWORD);
    const apiKey = await createApiKey(jar, url);

    // Deep pagination: the cursor 40 pages into the history.
    let cursor = "";
    for (let page = 0; page < 40; page++) {
      const html = await (await fetchWithJar(jar, `${url}/runs${cursor ? `?cursor=${cursor}` : ""}`)).text();
      cursor = /href="\/runs\?cursor=([^"&]+)"/.exec(html)?.[1] ?? "";
      if (!cursor) throw new Error(`Page ${page + 1} of /runs has no link to older runs`);
    }
    const middle = new Date(Date.now() - (TASK_RUNS / 2) * 5_000);
    const pages: [string, string][] = [
      ["/runs (first page)", "/runs"],
      ["/runs, page 41 (cursor)", `/runs?cursor=${cursor}`],
      ["/runs?status=failed", "/runs?status=failed"],
      ["/runs?status=cancelled", "/runs?status=cancelled"],
      ["/runs?status=queued", "/runs?status=queued"],
      ["/runs?status=executing", "/runs?status=executing"],
      ["/runs?task=integration-health-check", "/runs?task=integration-health-check"],
      ["/runs?task=webhook-delivery&status=cancelled", "/runs?task=webhook-delivery&status=cancelled"],
      [
        "/runs, 10-minute window 1.5 days back",
        `/runs?since=${new Date(middle.getTime() - 600_000).toISOString().slice(0, 16)}&until=${middle.toISOString().slice(0, 16)}`,
      ],
      ["/runs?q=<event id>", `/runs?q=${ids.event}`],
      ["/runs?q=<delivery id>", `/runs?q=${ids.delivery}`],
      ["/runs/<failed run>", `/runs/${ids.failed}`],
      ["/runs/<fan-out run>", `/runs/${ids.fanOut}`],
      ["/runs/delivery_<id>", `/runs/delivery_${ids.delivery}`],
      ["/runs/queues", "/runs/queues"],
      ["GET /api/v1/runs", "/api/v1/runs"],
    ];
    const results = [];
    for (const [name, pagePath] of pages) {
      const loader: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < REQUESTS + 3; i++) {
        const started = performance.now();
        const response = pagePath.startsWith("/api/")
          ? await fetch(`${url}${pagePath}`, { headers: { Authorization: `Bearer ${apiKey}` } })
          : await fetchWithJar(jar, `${url}${pagePath}`);
        await response.arrayBuffer();
        const elapsed = performance.now() - started;
        if (response.status !== 200) throw new Error(`${pagePath} answered ${response.status}`);
        if (i < 3) continue; // warm-up: plans, connections, JIT
        total.push(elapsed);
        const timing = /loader;dur=([\d.]+)/.exec(response.headers.get("server-timing") ?? "");
        if (timing) loader.push(Number(timing[1]));
      }
      const sortedTotal = total.sort((a, b) => a - b);
      const sortedLoader = loader.sort((a, b) => a - b);
      const row = {
        page: name,
        "loader p50 ms": sortedLoader.length ? Math.round(percentile(sortedLoader, 50) * 10) / 10 : "—",
        "loader p95 ms": sortedLoader.length ? Math.round(percentile(sortedLoader, 95) * 10) / 10 : "—",
        "response p50 ms": Math.round(percentile(sortedTotal, 50) * 10) / 10,
        "response p95 ms": Math.round(percentile(sortedTotal, 95) * 10) / 10,
        "response max ms": Math.round(sortedTotal.at(-1)! * 10) / 10,
      };
      results.push(row);
    }
    console.log(`\nThe runs console with ${RUNS.toLocaleString("en-US")} runs, ${REQUESTS} requests per page:`);
    console.table(results);
    mkdirSync(path.resolve("bench/results"), { recursive: true });
    const file = path.resolve(`bench/results/runs-console-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify({ runs: RUNS, requests: REQUESTS, cpus: os.cpus().length, results }, null, 2));
    console.log(`Written to ${path.relative(process.cwd(), file)}`);
  } finally {
    echo?.kill("SIGTERM");
    if (echo) await new Promise((resolve) => echo!.once("exit", resolve));
    await postgres.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A personal API key for the operator, made through the settings page as a person would. */
async function createApiKey(jar: CookieJar, url: string): Promise<string> {
  const page = await (await fetchWithJar(jar, `${url}/settings/api-keys`)).text();
  const response = await fetchWithJar(jar, `${url}/settings/api-keys`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: csrfTokenIn(page), intent: "create", name: "bench" }).toString(),
  });
  const key = /echo_sk_[\w-]+/.exec(await response.text())?.[0];
  if (!key) throw new Error(`Could not create an API key (HTTP ${response.status})`);
  return key;
}

// Run as a script (not when another script imports `seed`).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
