import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type RunningPostgres } from "~/services/database/embedded-postgres.server";
import { migrateDatabase } from "~/services/database/migrate.server";

export const TEMPLATE_DATABASE = "echo_test_template";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * One real PostgreSQL for the whole run: TEST_DATABASE_URL's server when set (its user
 * must be allowed to create databases), otherwise a throwaway embedded one. Migrations
 * are applied once to a template database; each test file clones it.
 */
export default async function setup(project: TestProject) {
  let embedded: RunningPostgres | undefined;
  let tempDir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    tempDir = await mkdtemp(path.join(os.tmpdir(), "echo-test-pg-"));
    // mkdtemp makes it private; PostgreSQL (user 'postgres' when we are root) must reach inside.
    await chmod(tempDir, 0o755);
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tempDir, "data"),
      port: await freePort(),
      password: "echo-test",
      databaseName: "postgres",
      fsync: false,
    });
    adminUrl = embedded.url;
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  await migrateDatabase(withDatabase(adminUrl, TEMPLATE_DATABASE));

  project.provide("postgresAdminUrl", adminUrl);

  return async () => {
    await embedded?.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
}
