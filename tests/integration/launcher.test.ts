import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createEmptyDatabase, type TestDatabase } from "../support/database";
import { findFreePort, runEchoUntilExit, startEchoServer } from "../support/echo-server";
import { csrfTokenIn, CookieJar, fetchWithJar, logInOverHttp } from "../support/http-session";

const temporary: string[] = [];
const databases: TestDatabase[] = [];

async function dataDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "echo-launcher-"));
  await chmod(dir, 0o755);
  temporary.push(dir);
  return dir;
}

function postgresProcessesFor(dir: string): string {
  try {
    return execFileSync("pgrep", ["-af", `postgres -D ${dir}`], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("npm start's launcher with the embedded database", () => {
  it("keeps data across restarts and leaves no PostgreSQL behind after SIGTERM", async () => {
    const dir = await dataDir();
    const env = { ECHO_DATA_DIR: dir, EMBEDDED_POSTGRES_PORT: String(await findFreePort()), SEED_DEMO_DATA: "false" };

    const first = await startEchoServer({ env, timeoutMs: 60_000 });
    // Where the README says data lives: the data folder, the database and the secrets inside it.
    expect(first.output()).toContain(
      `Echo is running at ${first.url} (data in ${dir}/: database in ${dir}/postgres/, secrets in ${dir}/secrets.json)`,
    );
    const jar = new CookieJar();
    const page = await fetchWithJar(jar, `${first.url}/signup`);
    const signup = await fetchWithJar(jar, `${first.url}/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        csrf: csrfTokenIn(await page.text()),
        name: "Persistent",
        email: "persist@example.com",
        password: "a-long-password-5",
      }),
    });
    expect(signup.status).toBe(302);
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(postgresProcessesFor(dir)).toBe("");

    const second = await startEchoServer({ env, timeoutMs: 60_000 });
    await expect(logInOverHttp(second.url, "persist@example.com", "a-long-password-5")).resolves.toBeInstanceOf(
      CookieJar,
    );
    expect(await second.stop("SIGINT")).toBe(0);
    expect(postgresProcessesFor(dir)).toBe("");
  }, 120_000);

  it("stops with one clear message when the database port is taken", async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    try {
      const { code, output } = await runEchoUntilExit({
        ECHO_DATA_DIR: await dataDir(),
        EMBEDDED_POSTGRES_PORT: String(port),
        PORT: String(await findFreePort()),
      });
      expect(code).toBe(1);
      expect(output).toContain(`Echo could not start: Port ${port} for the embedded PostgreSQL is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("stops with one clear message when the data folder cannot be written", async () => {
    const dir = await dataDir();
    const file = path.join(dir, "not-a-folder");
    await writeFile(file, "x");
    const { code, output } = await runEchoUntilExit({
      ECHO_DATA_DIR: path.join(file, "data"),
      PORT: String(await findFreePort()),
    });
    expect(code).toBe(1);
    expect(output).toMatch(/Echo could not start: Cannot read|Echo could not start: .*(cannot be created|ENOTDIR)/);
  });

  it("stops with one clear message when a migration failed earlier", async () => {
    const database = await createEmptyDatabase();
    databases.push(database);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`CREATE TABLE "_prisma_migrations" (id VARCHAR(36) PRIMARY KEY, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ,
      migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)`);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('x', 'y', '20261122220000_init')`,
    );
    await client.end();
    const { code, output } = await runEchoUntilExit({ DATABASE_URL: database.url, PORT: String(await findFreePort()) });
    expect(code).toBe(1);
    expect(output).toContain(
      "Echo could not start: Migration 20261122220000_init failed earlier and was never finished",
    );
  });

  it("names the invalid setting when the environment is wrong", async () => {
    const { code, output } = await runEchoUntilExit({ PORT: "not-a-port" });
    expect(code).toBe(1);
    expect(output).toMatch(/Echo could not start: Invalid environment configuration:\s+PORT:/);
    expect(output).not.toContain("    at ");
  });
});
