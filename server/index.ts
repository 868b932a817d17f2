/**
 * Echo's launcher: the composition root for `npm start`.
 * 1. Resolves the database: DATABASE_URL, or an embedded PostgreSQL in ECHO_DATA_DIR.
 * 2. Migrates it, seeds demo data, then serves the Remix build.
 * 3. On SIGINT/SIGTERM shuts down in order: HTTP, then the database, so nothing is orphaned
 *    (during start-up too: a database still starting is stopped once it is up).
 */
import path from "node:path";
import { parseEnv } from "../app/lib/env-schema.ts";
import { describeDataLocation } from "./data-location.ts";
import { startEmbeddedPostgres, type RunningPostgres } from "../app/services/database/embedded-postgres.server.ts";
import { migrateDatabase } from "../app/services/database/migrate.server.ts";
import { loadOrCreateLocalSecrets } from "../app/services/local-secrets.server.ts";

const bootEnv = (() => {
  try {
    return parseEnv(process.env);
  } catch (error) {
    console.error(`\nEcho could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
})();
const dataDir = path.resolve(bootEnv.ECHO_DATA_DIR);
let embedded: RunningPostgres | undefined;
/** Set while the embedded PostgreSQL starts: a signal then waits for it, so it is stopped too. */
let embeddedStarting: Promise<RunningPostgres> | undefined;
let localSecretsUsed = false;
const cleanups: (() => Promise<void>)[] = [];

/** A start-up step failed; fail() has said why and begun the shutdown. */
class StartupFailure extends Error {}

function fail(message: string): never {
  // After a signal, steps still starting fail as the database stops: expected, not news.
  if (!shuttingDown) console.error(`\nEcho could not start: ${message}\n`);
  void shutdown(1);
  // shutdown() exits; this keeps TypeScript's `never` honest.
  throw new StartupFailure(message);
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const force = setTimeout(() => {
    console.error("Shutdown took longer than 20 s; exiting anyway.");
    process.exit(code || 1);
  }, 20_000);
  force.unref();
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((error: unknown) => console.error("Error during shutdown:", error));
  }
  // A start that failed has nothing to stop (fail() has reported it).
  const database = embedded ?? (await embeddedStarting?.catch(() => undefined));
  if (database) await database.stop().catch((error: unknown) => console.error("Stopping PostgreSQL failed:", error));
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    console.log(`\n${signal} received: shutting down Echo.`);
    void shutdown(0);
  });
}
process.on("uncaughtException", (error) => {
  console.error("Uncaught exception:", error);
  void shutdown(1);
});
process.on("unhandledRejection", (reason) => {
  console.error("Unhandled rejection:", reason);
  void shutdown(1);
});

async function resolveDatabase(): Promise<void> {
  const configured = bootEnv.DATABASE_URL && bootEnv.SESSION_SECRET && bootEnv.ENCRYPTION_KEY;
  if (configured) return;
  // The local default: whatever the operator did not configure comes from the data folder.
  const localSecrets = await loadOrCreateLocalSecrets(dataDir).catch((error: Error) => fail(error.message));
  localSecretsUsed = true;
  process.env.SESSION_SECRET ??= localSecrets.sessionSecret;
  process.env.ENCRYPTION_KEY ??= localSecrets.encryptionKey;
  if (bootEnv.DATABASE_URL) return;
  embeddedStarting = startEmbeddedPostgres({
    dataDir: path.join(dataDir, "postgres"),
    port: bootEnv.EMBEDDED_POSTGRES_PORT,
    password: localSecrets.postgresPassword,
    databaseName: "echo",
  });
  embedded = await embeddedStarting.catch((error: Error) => fail(error.message));
  process.env.DATABASE_URL = embedded.url;
  // The local default delivers to receivers on this machine (it has nothing else to reach).
  process.env.OUTBOUND_ALLOWED_HOSTS ??= "127.0.0.1,::1,localhost";
}

async function main(): Promise<void> {
  await resolveDatabase();
  const databaseUrl = process.env.DATABASE_URL as string;
  const applied = await migrateDatabase(databaseUrl).catch((error: Error) => fail(error.message));
  if (applied.length > 0) console.log(`Applied migrations: ${applied.join(", ")}`);

  // Imported only now: these modules read the settings resolved above.
  const { startHttpServer } = await import("./http.ts");
  const { prisma, disconnectDatabase } = await import("../app/db.server.ts");
  cleanups.push(() => disconnectDatabase(prisma));

  const env = parseEnv(process.env);
  const { seedDemoData, seedIntegrationCatalog, DEMO_USER } = await import("../app/services/seed/seed.server.ts");
  await seedIntegrationCatalog(prisma);
  if (env.SEED_DEMO_DATA) {
    await seedDemoData(prisma);
    console.log(`Demo login: ${DEMO_USER.email} / ${DEMO_USER.password}`);
  }

  if (env.WORKER_ENABLED) {
    const { startWorker } = await import("./worker.ts");
    const worker = await startWorker(env);
    cleanups.push(() => worker.stop());
  }

  const server = await startHttpServer(env).catch((error: Error) => fail(error.message));
  cleanups.push(() => server.close());
  const data = describeDataLocation({
    dataDir,
    cwd: process.cwd(),
    embeddedDatabase: embedded !== undefined,
    localSecrets: localSecretsUsed,
  });
  console.log(`Echo is running at ${env.APP_URL} (${data})`);
}

main().catch((error: unknown) => {
  // fail() has said why and is shutting down; anything else goes to the unhandledRejection handler.
  if (!(error instanceof StartupFailure)) throw error;
});
