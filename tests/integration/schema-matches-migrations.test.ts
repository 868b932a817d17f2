import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "~/services/database/migrate.server";
import { createEmptyDatabase, type TestDatabase } from "../support/database";
import { diffSchemas, formatSchemaDifferences, schemaFromDatabase, schemaFromPrisma } from "../support/schema-diff";

const SCHEMA_PATH = path.resolve("prisma/schema.prisma");
const created: TestDatabase[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();
  created.push(database);
  return database;
}

async function migratedDatabase(): Promise<TestDatabase> {
  const database = await emptyDatabase();
  await migrateDatabase(database.url);
  return database;
}

async function execute(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function differencesFor(datamodel: string, databaseUrl: string): Promise<string[]> {
  return diffSchemas(await schemaFromPrisma(datamodel), await schemaFromDatabase(databaseUrl));
}

/** Differences in `after` that `before` did not have: what one change caused, whatever else is in flight. */
function newDifferences(before: string[], after: string[]): string[] {
  return after.filter((difference) => !before.includes(difference)).sort();
}

afterAll(async () => {
  await Promise.all(created.map((database) => database.drop()));
});

describe("prisma/migrations applied by migrateDatabase", () => {
  it("build exactly the database that schema.prisma describes", async () => {
    const datamodel = await readFile(SCHEMA_PATH, "utf8");
    const database = await migratedDatabase();
    const expected = await schemaFromPrisma(datamodel);

    const differences = diffSchemas(expected, await schemaFromDatabase(database.url));
    expect(differences, formatSchemaDifferences(differences)).toEqual([]);

    // Every model and enum of the file took part, not a sample of them.
    expect(expected.tables.size).toBe(datamodel.match(/^model\s+\w+\s*\{/gm)?.length);
    expect(expected.enums.size).toBe(datamodel.match(/^enum\s+\w+\s*\{/gm)?.length);
    expect([...expected.indexes.values()].filter((index) => index.kind === "PRIMARY KEY")).toHaveLength(
      expected.tables.size,
    );
  });

  it("give each test file a database that matches schema.prisma too (cloned from the migrated template)", async () => {
    const differences = await differencesFor(await readFile(SCHEMA_PATH, "utf8"), process.env.DATABASE_URL!);
    expect(differences, formatSchemaDifferences(differences)).toEqual([]);
  });
});

describe("diffSchemas", () => {
  it("reports every kind of drift a hand-written migration can introduce, once each", async () => {
    const datamodel = await readFile(SCHEMA_PATH, "utf8");
    const database = await migratedDatabase();
    const before = await differencesFor(datamodel, database.url);

    await execute(database.url, [
      `ALTER TABLE "User" DROP COLUMN "name"`,
      `ALTER TABLE "User" ADD COLUMN "nickname" TEXT`,
      `ALTER TABLE "ApiKey" ALTER COLUMN "name" TYPE VARCHAR(100)`,
      `ALTER TABLE "Session" ALTER COLUMN "userAgent" SET NOT NULL`,
      `ALTER TABLE "WebhookEndpoint" ALTER COLUMN "maxRetries" DROP DEFAULT`,
      `ALTER TABLE "OAuthClient" ALTER COLUMN "webhookTimeoutMs" SET DEFAULT 1000`,
      `ALTER TABLE "TaskRun" ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP`,
      `ALTER TABLE "TaskRun" ALTER COLUMN "status" SET DEFAULT 'FAILED'`,
      `ALTER TABLE "IntegrationDefinition" ALTER COLUMN "config" SET DEFAULT '{"a": 1}'`,
      `DROP INDEX "WebhookDelivery_endpointId_createdAt_idx"`,
      `DROP INDEX "User_email_key"`,
      `DROP INDEX "OAuthClient_allowedScopes_idx"`,
      `CREATE INDEX "OAuthClient_allowedScopes_idx" ON "OAuthClient" ("allowedScopes")`,
      `DROP INDEX "TaskRun_status_taskId_runAt_idx"`,
      `CREATE INDEX "TaskRun_status_taskId_runAt_idx" ON "TaskRun" ("runAt", "taskId", "status")`,
      `DROP INDEX "OAuthConsent_clientId_userId_key"`,
      `CREATE INDEX "OAuthConsent_clientId_userId_key" ON "OAuthConsent" ("clientId", "userId")`,
      `CREATE INDEX "User_createdAt_idx" ON "User" ("createdAt")`,
      `DROP INDEX "WebhookDelivery_open_nextAttemptAt_idx"`,
      `CREATE INDEX "WebhookDelivery_open_nextAttemptAt_idx" ON "WebhookDelivery" ("nextAttemptAt") WHERE "completedAt" IS NOT NULL`,
      `DROP INDEX "WebhookDelivery_createdAt_idx"`,
      `CREATE INDEX "WebhookDelivery_createdAt_idx" ON "WebhookDelivery" ("createdAt") WHERE "createdAt" > '2026-01-01'`,
      `ALTER TABLE "RateLimitBucket" DROP CONSTRAINT "RateLimitBucket_pkey"`,
      `ALTER TABLE "ApiKey" DROP CONSTRAINT "ApiKey_userId_fkey"`,
      `ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE`,
      `ALTER TABLE "WebhookEvent" DROP CONSTRAINT "WebhookEvent_userId_fkey"`,
      `ALTER TYPE "WebhookDeliveryStatus" ADD VALUE 'CANCELLED'`,
      `CREATE TYPE "Mood" AS ENUM ('HAPPY')`,
      `DROP TABLE "DeliveryAttempt"`,
      `CREATE TABLE "Stray" ("id" INTEGER)`,
      `CREATE TABLE "NoColumns" ()`,
      `CREATE VIEW "ActiveUsers" AS SELECT "id" FROM "User"`,
    ]);

    const after = await differencesFor(datamodel, database.url);
    const deliveryStatuses = (await schemaFromPrisma(datamodel)).enums.get("WebhookDeliveryStatus")!;
    expect(newDifferences(before, after), formatSchemaDifferences(after)).toEqual(
      [
        `column "User"."name" is missing from the database (schema.prisma: text NOT NULL)`,
        `column "User"."nickname" is in the database (text NULL) but not in schema.prisma`,
        `column "ApiKey"."name": schema.prisma wants type text, the database has character varying(100)`,
        `column "Session"."userAgent": schema.prisma wants NULL, the database has NOT NULL`,
        `column "WebhookEndpoint"."maxRetries": schema.prisma wants DEFAULT 7, the database has no default`,
        `column "OAuthClient"."webhookTimeoutMs": schema.prisma wants DEFAULT 30000, the database has DEFAULT 1000`,
        `column "TaskRun"."updatedAt": schema.prisma wants no default, the database has DEFAULT now()`,
        `column "TaskRun"."status": schema.prisma wants DEFAULT 'QUEUED', the database has DEFAULT 'FAILED'`,
        `column "IntegrationDefinition"."config": schema.prisma wants DEFAULT '{}', the database has DEFAULT '{"a":1}'`,
        `index "WebhookDelivery_endpointId_createdAt_idx" is missing from the database (schema.prisma: INDEX on "WebhookDelivery" USING btree (endpointId, createdAt))`,
        `index "User_email_key" is missing from the database (schema.prisma: UNIQUE INDEX on "User" USING btree (email))`,
        `index "OAuthClient_allowedScopes_idx": schema.prisma wants USING gin, the database has USING btree`,
        `index "TaskRun_status_taskId_runAt_idx": schema.prisma wants columns (status, taskId, runAt), the database has (runAt, taskId, status)`,
        `index "OAuthConsent_clientId_userId_key": schema.prisma wants UNIQUE INDEX, the database has INDEX`,
        `index "User_createdAt_idx" is in the database (INDEX on "User" USING btree (createdAt)) but not in schema.prisma`,
        `index "WebhookDelivery_open_nextAttemptAt_idx": schema.prisma wants WHERE "completedAt" IS NULL, the database has WHERE ("completedAt" IS NOT NULL)`,
        `index "WebhookDelivery_createdAt_idx": schema.prisma wants USING brin, the database has USING btree`,
        `index "WebhookDelivery_createdAt_idx": schema.prisma wants a full index, the database has a partial one WHERE ("createdAt" > '2026-01-01 00:00:00'::timestamp without time zone)`,
        `index "RateLimitBucket_pkey" is missing from the database (schema.prisma: PRIMARY KEY on "RateLimitBucket" USING btree (key))`,
        `foreign key "ApiKey_userId_fkey": schema.prisma wants ON DELETE CASCADE, the database has ON DELETE RESTRICT`,
        `foreign key "WebhookEvent_userId_fkey" is missing from the database (schema.prisma: "WebhookEvent" (userId) REFERENCES "User" (id) ON DELETE SET NULL ON UPDATE CASCADE)`,
        `enum "WebhookDeliveryStatus": schema.prisma wants values (${deliveryStatuses.join(", ")}), the database has (${[...deliveryStatuses, "CANCELLED"].join(", ")})`,
        `enum "Mood" is in the database (HAPPY) but not in schema.prisma`,
        `table "DeliveryAttempt" is missing from the database`,
        `table "Stray" is in the database but is not a model in schema.prisma`,
        `table "NoColumns" is in the database but is not a model in schema.prisma`,
        `view "ActiveUsers" is in the database but is not a model in schema.prisma`,
      ].sort(),
    );
  });

  it("reports what a migration is missing when schema.prisma gains fields, indexes, values, models or stricter rules", async () => {
    const datamodel = await readFile(SCHEMA_PATH, "utf8");
    const database = await migratedDatabase();
    const before = await differencesFor(datamodel, database.url);
    const taskRunStatuses = (await schemaFromDatabase(database.url)).enums.get("TaskRunStatus")!;

    const edited = datamodel
      .replace(
        /^model User \{\n/m,
        `model User {\n  nickname String?\n  labels String[] @default(["new"])\n  @@index([createdAt(sort: Desc)])\n  @@index([name], map: "User_named_idx", where: raw("name <> ''"))\n`,
      )
      .replace(/^(\s+email\s+String)(\s+@unique)/m, "$1 @db.VarChar(320)$2")
      .replace(/^(model Session \{[\s\S]*?)onDelete: Cascade/m, "$1onDelete: Restrict")
      .replace(/^(enum TaskRunStatus \{[\s\S]*?)\n\}/m, "$1\n  PAUSED\n}")
      .concat(`\nmodel Extra {\n  id String @id\n}\n`);
    expect(edited).not.toBe(datamodel);

    expect(newDifferences(before, await differencesFor(edited, database.url))).toEqual(
      [
        `column "User"."nickname" is missing from the database (schema.prisma: text NULL)`,
        `column "User"."labels" is missing from the database (schema.prisma: text[] NULL DEFAULT ARRAY['new'])`,
        `column "User"."email": schema.prisma wants type character varying(320), the database has text`,
        `index "User_createdAt_idx" is missing from the database (schema.prisma: INDEX on "User" USING btree (createdAt DESC))`,
        `index "User_named_idx" is missing from the database (schema.prisma: INDEX on "User" USING btree (name) WHERE name <> '')`,
        `foreign key "Session_userId_fkey": schema.prisma wants ON DELETE RESTRICT, the database has ON DELETE CASCADE`,
        `enum "TaskRunStatus": schema.prisma wants values (${[...taskRunStatuses, "PAUSED"].join(", ")}), the database has (${taskRunStatuses.join(", ")})`,
        `table "Extra" is missing from the database`,
      ].sort(),
    );
  });

  it("raises no false alarm on native types, mapped names, list, JSON, enum and database-generated defaults, sort orders and operator classes", async () => {
    const datamodel = `
datasource db {
  provider = "postgresql"
}

enum Mood {
  HAPPY @map("happy")
  SAD

  @@map("moods")
}

model Sample {
  id      Int      @id @default(autoincrement())
  tags    String[] @default([])
  letters String[] @default(["a", "b, c"])
  moods   Mood[]   @default([HAPPY])
  at      DateTime @db.Timestamptz(6)
  seenAt  DateTime @default(now()) @db.Timestamptz
  code    String   @db.VarChar(100)
  amount  Decimal  @default(1.5) @db.Decimal(10, 2)
  note    String   @default("it's") @map("note_text")
  rank    Int      @default(-1)
  ratio   Float    @default(0.25)
  big     BigInt   @default(5)
  flag    Boolean  @default(false)
  uuid    String   @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  mood    Mood     @default(HAPPY)
  data    Json     @default("{\\"a\\": [1, 2]}")
  search  Unsupported("tsvector")?
  ownerId Int
  owner   Owner    @relation(fields: [ownerId], references: [id], onDelete: Cascade, map: "sample_owner")

  @@unique([code, ownerId])
  @@index([rank(sort: Desc), note])
  @@index([tags(ops: ArrayOps)], type: Gin, map: "sample_tags")
  @@index([data(ops: JsonbPathOps)], type: Gin)
  @@map("samples")
}

model Owner {
  id      Int      @unique(map: "owner_id_unique")
  region  Int
  samples Sample[]

  @@id([id, region], map: "owner_pk")
}
`;
    // What Prisma Migrate generates for that schema.
    const migration = [
      `CREATE TYPE "moods" AS ENUM ('happy', 'SAD')`,
      `CREATE TABLE "Owner" ("id" INTEGER NOT NULL, "region" INTEGER NOT NULL, CONSTRAINT "owner_pk" PRIMARY KEY ("id", "region"))`,
      `CREATE TABLE "samples" (
        "id" SERIAL NOT NULL,
        "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
        "letters" TEXT[] DEFAULT ARRAY['a', 'b, c']::TEXT[],
        "moods" "moods"[] DEFAULT ARRAY['happy']::"moods"[],
        "at" TIMESTAMPTZ(6) NOT NULL,
        "seenAt" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        "code" VARCHAR(100) NOT NULL,
        "amount" DECIMAL(10,2) NOT NULL DEFAULT 1.5,
        "note_text" TEXT NOT NULL DEFAULT 'it''s',
        "rank" INTEGER NOT NULL DEFAULT -1,
        "ratio" DOUBLE PRECISION NOT NULL DEFAULT 0.25,
        "big" BIGINT NOT NULL DEFAULT 5,
        "flag" BOOLEAN NOT NULL DEFAULT false,
        "uuid" UUID NOT NULL DEFAULT gen_random_uuid(),
        "mood" "moods" NOT NULL DEFAULT 'happy',
        "data" JSONB NOT NULL DEFAULT '{"a": [1, 2]}',
        "search" tsvector,
        "ownerId" INTEGER NOT NULL,
        CONSTRAINT "samples_pkey" PRIMARY KEY ("id"))`,
      `CREATE UNIQUE INDEX "owner_id_unique" ON "Owner"("id")`,
      `CREATE UNIQUE INDEX "samples_code_ownerId_key" ON "samples"("code", "ownerId")`,
      `CREATE INDEX "samples_rank_note_text_idx" ON "samples"("rank" DESC, "note_text")`,
      `CREATE INDEX "sample_tags" ON "samples" USING GIN ("tags" array_ops)`,
      `CREATE INDEX "samples_data_idx" ON "samples" USING GIN ("data" jsonb_path_ops)`,
      `ALTER TABLE "samples" ADD CONSTRAINT "sample_owner" FOREIGN KEY ("ownerId") REFERENCES "Owner"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    ];
    const database = await emptyDatabase();
    await execute(database.url, migration);

    const differences = await differencesFor(datamodel, database.url);
    expect(differences, formatSchemaDifferences(differences)).toEqual([]);

    // And the same details are really compared, not skipped.
    await execute(database.url, [
      `ALTER TABLE "samples" ALTER COLUMN "letters" SET DEFAULT ARRAY['a']::TEXT[]`,
      `ALTER TABLE "samples" ALTER COLUMN "rank" SET DEFAULT 1`,
      `DROP INDEX "samples_data_idx"`,
      `CREATE INDEX "samples_data_idx" ON "samples" USING GIN ("data")`,
      `DROP INDEX "samples_rank_note_text_idx"`,
      `CREATE INDEX "samples_rank_note_text_idx" ON "samples"("rank", "note_text")`,
      `ALTER TABLE "samples" ALTER COLUMN "at" TYPE TIMESTAMPTZ(3)`,
    ]);
    expect((await differencesFor(datamodel, database.url)).sort()).toEqual(
      [
        `column "samples"."letters": schema.prisma wants DEFAULT ARRAY['a', 'b, c'], the database has DEFAULT ARRAY['a']`,
        `column "samples"."rank": schema.prisma wants DEFAULT -1, the database has DEFAULT 1`,
        `column "samples"."at": schema.prisma wants type timestamp(6) with time zone, the database has timestamp(3) with time zone`,
        `index "samples_data_idx": schema.prisma wants columns (data jsonb_path_ops), the database has (data)`,
        `index "samples_rank_note_text_idx": schema.prisma wants columns (rank DESC, note_text), the database has (rank, note_text)`,
      ].sort(),
    );
  });
});
