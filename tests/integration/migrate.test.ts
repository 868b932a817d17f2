import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { MigrationError, migrateDatabase, readMigrations } from "~/services/database/migrate.server";
import { createEmptyDatabase, type TestDatabase } from "../support/database";

const created: TestDatabase[] = [];
async function emptyDatabase() {
  const database = await createEmptyDatabase();
  created.push(database);
  return database;
}
afterAll(async () => {
  await Promise.all(created.map((database) => database.drop()));
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function migrationsDir(migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "echo-migrations-"));
  for (const [name, sql] of Object.entries(migrations)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

describe("migrateDatabase", () => {
  it("records every migration in _prisma_migrations exactly as Prisma Migrate does", async () => {
    const database = await emptyDatabase();
    const applied = await migrateDatabase(database.url);
    const migrations = await readMigrations();
    expect(applied).toEqual(migrations.map((m) => m.name));

    const columns = await query<{ column_name: string; data_type: string; is_nullable: string }>(
      database.url,
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ["id", "character varying", "NO"],
      ["checksum", "character varying", "NO"],
      ["finished_at", "timestamp with time zone", "YES"],
      ["migration_name", "character varying", "NO"],
      ["logs", "text", "YES"],
      ["rolled_back_at", "timestamp with time zone", "YES"],
      ["started_at", "timestamp with time zone", "NO"],
      ["applied_steps_count", "integer", "NO"],
    ]);

    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
    }>(
      database.url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    for (const [index, row] of rows.entries()) {
      const sql = await readFile(path.resolve("prisma/migrations", row.migration_name, "migration.sql"));
      expect(row).toMatchObject({
        migration_name: migrations[index]!.name,
        checksum: createHash("sha256").update(sql).digest("hex"),
        applied_steps_count: 1,
      });
      expect(row.finished_at).toBeInstanceOf(Date);
    }
  });

  it("applies nothing the second time", async () => {
    const database = await emptyDatabase();
    await migrateDatabase(database.url);
    expect(await migrateDatabase(database.url)).toEqual([]);
  });

  it("rolls a failing migration back completely and names it", async () => {
    const database = await emptyDatabase();
    const dir = await migrationsDir({
      "20260101000000_good": `CREATE TABLE "Good" (id int);`,
      "20260102000000_broken": `CREATE TABLE "HalfDone" (id int);\nSELECT * FROM "DoesNotExist";`,
    });
    const failure = await migrateDatabase(database.url, { migrationsDir: dir }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migrationName).toBe("20260102000000_broken");
    expect((failure as Error).message).toContain('relation "DoesNotExist" does not exist');

    const tables = await query<{ table_name: string }>(
      database.url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(["Good", "_prisma_migrations"]);
    const recorded = await query<{ migration_name: string }>(
      database.url,
      `SELECT migration_name FROM "_prisma_migrations"`,
    );
    expect(recorded.map((r) => r.migration_name)).toEqual(["20260101000000_good"]);
  });

  it("lets only one of two concurrent runners apply each migration", async () => {
    const database = await emptyDatabase();
    const dir = await migrationsDir({ "20260101000000_slow": `SELECT pg_sleep(0.3); CREATE TABLE "Once" (id int);` });
    const [a, b] = await Promise.all([
      migrateDatabase(database.url, { migrationsDir: dir }),
      migrateDatabase(database.url, { migrationsDir: dir }),
    ]);
    expect([...a, ...b]).toEqual(["20260101000000_slow"]);
    const recorded = await query<{ count: string }>(database.url, `SELECT count(*) FROM "_prisma_migrations"`);
    expect(recorded[0]!.count).toBe("1");
  });
});
