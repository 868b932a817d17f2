import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { MigrationError, migrateDatabase } from "~/services/database/migrate.server";
import { createEmptyDatabase, type TestDatabase } from "../support/database";
import { waitFor } from "../support/wait";

const MIGRATIONS_DIR = path.resolve("prisma/migrations");
// The advisory lock key `prisma migrate deploy` takes; the runner must wait on the same one.
const PRISMA_MIGRATE_LOCK_KEY = 72707369;

const createdDatabases: TestDatabase[] = [];
const createdDirs: string[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();
  createdDatabases.push(database);
  return database;
}

afterAll(async () => {
  await Promise.all(createdDatabases.map((database) => database.drop()));
  await Promise.all(createdDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A throwaway migrations folder laid out like prisma/migrations. */
async function migrationsDir(migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "echo-migrations-"));
  createdDirs.push(dir);
  await addMigrations(dir, migrations);
  return dir;
}

async function addMigrations(dir: string, migrations: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(migrations)) {
    await mkdir(path.join(dir, name), { recursive: true });
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }
}

type MigrationRow = {
  id: string;
  migration_name: string;
  checksum: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
};

function migrationRows(url: string): Promise<MigrationRow[]> {
  return query<MigrationRow>(url, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
}

function publicTables(url: string): Promise<string[]> {
  return query<{ table_name: string }>(
    url,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  ).then((rows) => rows.map((row) => row.table_name));
}

describe("migrateDatabase", () => {
  it("creates _prisma_migrations with Prisma Migrate's exact columns on an empty database", async () => {
    const database = await emptyDatabase();
    await migrateDatabase(database.url);

    const columns = await query<{ name: string; type: string; notNull: boolean; default: string | null }>(
      database.url,
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
              pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = '"_prisma_migrations"'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY a.attnum`,
    );
    // As in Prisma's schema engine: CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, ...).
    expect(columns).toEqual([
      { name: "id", type: "character varying(36)", notNull: true, default: null },
      { name: "checksum", type: "character varying(64)", notNull: true, default: null },
      { name: "finished_at", type: "timestamp with time zone", notNull: false, default: null },
      { name: "migration_name", type: "character varying(255)", notNull: true, default: null },
      { name: "logs", type: "text", notNull: false, default: null },
      { name: "rolled_back_at", type: "timestamp with time zone", notNull: false, default: null },
      { name: "started_at", type: "timestamp with time zone", notNull: true, default: "now()" },
      { name: "applied_steps_count", type: "integer", notNull: true, default: "0" },
    ]);
    const primaryKey = await query<{ columns: string[] }>(
      database.url,
      `SELECT array(SELECT a.attname FROM unnest(c.conkey) k(attnum)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text[] AS columns
       FROM pg_constraint c WHERE c.conrelid = '"_prisma_migrations"'::regclass AND c.contype = 'p'`,
    );
    expect(primaryKey).toEqual([{ columns: ["id"] }]);
  });

  it("records each migration with the SHA-256 of its migration.sql, a finish time and one applied step", async () => {
    const database = await emptyDatabase();
    const applied = await migrateDatabase(database.url);

    // Read the folder here rather than through the runner, so the runner is checked, not echoed.
    const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(names.length).toBeGreaterThan(0);
    expect(applied).toEqual(names);

    const rows = await migrationRows(database.url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      const sql = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum, row.migration_name).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
    expect(await publicTables(database.url)).toEqual(expect.arrayContaining(["User", "TaskRun", "OAuthToken"]));
  });

  it("applies nothing when run again, and leaves the records as they were", async () => {
    const database = await emptyDatabase();
    await migrateDatabase(database.url);
    const before = await migrationRows(database.url);

    expect(await migrateDatabase(database.url)).toEqual([]);
    expect(await migrationRows(database.url)).toEqual(before);
  });

  it("applies only the migration added since the last run", async () => {
    const database = await emptyDatabase();
    const dir = await migrationsDir({ "20260101000000_first": `CREATE TABLE "First" ("id" INTEGER);` });
    expect(await migrateDatabase(database.url, { migrationsDir: dir })).toEqual(["20260101000000_first"]);

    await addMigrations(dir, { "20260102000000_second": `ALTER TABLE "First" ADD COLUMN "name" TEXT;` });
    expect(await migrateDatabase(database.url, { migrationsDir: dir })).toEqual(["20260102000000_second"]);
    expect((await migrationRows(database.url)).map((row) => row.migration_name)).toEqual([
      "20260101000000_first",
      "20260102000000_second",
    ]);
  });

  it("throws a MigrationError naming a failing migration and rolls all of it back, leaving no finished row", async () => {
    const database = await emptyDatabase();
    const dir = await migrationsDir({
      "20260101000000_good": `CREATE TABLE "Good" ("id" INTEGER);`,
      "20260102000000_broken": [
        `CREATE TABLE "HalfDone" ("id" INTEGER);`,
        `ALTER TABLE "Good" ADD COLUMN "extra" TEXT;`,
        `INSERT INTO "Good" ("id") VALUES (1);`,
        `SELECT * FROM "DoesNotExist";`,
      ].join("\n"),
    });

    const failure = await migrateDatabase(database.url, { migrationsDir: dir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migrationName).toBe("20260102000000_broken");
    expect((failure as MigrationError).message).toContain("20260102000000_broken");
    expect((failure as MigrationError).message).toContain('relation "DoesNotExist" does not exist');

    // Nothing of the broken migration survived: no table, no column, no row, no record.
    expect(await publicTables(database.url)).toEqual(["Good", "_prisma_migrations"]);
    const goodColumns = await query<{ column_name: string }>(
      database.url,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'Good'`,
    );
    expect(goodColumns.map((column) => column.column_name)).toEqual(["id"]);
    expect(await query(database.url, `SELECT * FROM "Good"`)).toEqual([]);
    const rows = await migrationRows(database.url);
    expect(rows.map((row) => [row.migration_name, row.finished_at !== null])).toEqual([["20260101000000_good", true]]);

    // Once the file is fixed, the next run applies it and only it.
    await addMigrations(dir, { "20260102000000_broken": `CREATE TABLE "HalfDone" ("id" INTEGER);` });
    expect(await migrateDatabase(database.url, { migrationsDir: dir })).toEqual(["20260102000000_broken"]);
  });

  it("refuses to go on past a migration that Prisma recorded as started and never finished", async () => {
    const database = await emptyDatabase();
    const dir = await migrationsDir({
      "20260101000000_interrupted": `CREATE TABLE "Interrupted" ("id" INTEGER);`,
      "20260102000000_next": `CREATE TABLE "Next" ("id" INTEGER);`,
    });
    await migrateDatabase(database.url, { migrationsDir: await migrationsDir({}) });
    await query(
      database.url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000000', $1, '20260101000000_interrupted', now(), 0)`,
      ["0".repeat(64)],
    );

    const failure = await migrateDatabase(database.url, { migrationsDir: dir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migrationName).toBe("20260101000000_interrupted");
    expect(await publicTables(database.url)).toEqual(["_prisma_migrations"]);
  });

  it("lets only one of two runners started together apply a migration (Prisma's advisory lock)", async () => {
    const database = await emptyDatabase();
    // Each application of the migration leaves a row, so a second application would show.
    await query(database.url, `CREATE TABLE "Applications" ("at" TIMESTAMPTZ NOT NULL)`);
    const dir = await migrationsDir({
      "20260101000000_counted": `INSERT INTO "Applications" ("at") VALUES (clock_timestamp());`,
    });

    // Hold the lock, as a running `prisma migrate deploy` would, until both runners are queued behind it.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
      let settled = false;
      const runners = Promise.all([
        migrateDatabase(database.url, { migrationsDir: dir }),
        migrateDatabase(database.url, { migrationsDir: dir }),
      ]);
      void runners.finally(() => (settled = true)).catch(() => undefined);
      const state = await waitFor(async () => {
        if (settled) return "finished while the lock was held";
        const [waiting] = await query<{ count: number }>(
          database.url,
          `SELECT count(*)::int AS count FROM pg_locks
           WHERE locktype = 'advisory' AND objid = $1 AND NOT granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [PRISMA_MIGRATE_LOCK_KEY],
        );
        return waiting!.count === 2 && "both waiting for the lock";
      });
      expect(state).toBe("both waiting for the lock");
      await holder.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]);

      const [first, second] = await runners;
      expect([first, second].sort()).toEqual([[], ["20260101000000_counted"]]);
    } finally {
      await holder.end();
    }
    expect(await query(database.url, `SELECT count(*)::int AS count FROM "Applications"`)).toEqual([{ count: 1 }]);
    expect((await migrationRows(database.url)).map((row) => row.migration_name)).toEqual(["20260101000000_counted"]);
  });
});
