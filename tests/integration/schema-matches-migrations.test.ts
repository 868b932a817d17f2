import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "~/services/database/migrate.server";
import { createEmptyDatabase, type TestDatabase } from "../support/database";
import { actualSchema, diffSchemas, expectedSchema } from "../support/schema-diff";

const SCHEMA = path.resolve("prisma/schema.prisma");
const created: TestDatabase[] = [];

async function migratedDatabase() {
  const database = await createEmptyDatabase();
  created.push(database);
  await migrateDatabase(database.url);
  return database;
}

afterAll(async () => {
  await Promise.all(created.map((database) => database.drop()));
});

describe("prisma/migrations", () => {
  it("produce exactly the database schema.prisma describes", async () => {
    const database = await migratedDatabase();
    const expected = await expectedSchema(SCHEMA);
    const differences = diffSchemas(expected, await actualSchema(database.url));
    expect(differences, `Migrations and schema.prisma disagree:\n  ${differences.join("\n  ")}`).toEqual([]);
    // The comparison covers the whole model, not a sample.
    expect(expected.tables.size).toBeGreaterThanOrEqual(13);
    expect(expected.indexes.size).toBeGreaterThanOrEqual(40);
  });

  it("reports a dropped column, a dropped index, a changed nullability and a changed ON DELETE", async () => {
    const database = await migratedDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`ALTER TABLE "User" DROP COLUMN "name"`);
    await client.query(`DROP INDEX "WebhookDelivery_status_nextAttemptAt_idx"`);
    await client.query(`ALTER TABLE "Session" ALTER COLUMN "userAgent" SET NOT NULL`);
    await client.query(`ALTER TABLE "ApiKey" DROP CONSTRAINT "ApiKey_userId_fkey"`);
    await client.query(
      `ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE`,
    );
    await client.query(`CREATE TABLE "Stray" (id int)`);
    await client.end();

    const differences = diffSchemas(await expectedSchema(SCHEMA), await actualSchema(database.url));
    expect(differences).toEqual(
      expect.arrayContaining([
        "column User.name: missing in the database",
        expect.stringMatching(/^index WebhookDelivery_status_nextAttemptAt_idx: missing in the database/),
        expect.stringMatching(
          /^column Session.userAgent: schema.prisma says .*"nullable":true.*database has .*"nullable":false/,
        ),
        expect.stringMatching(/^foreign key ApiKey_userId_fkey: schema.prisma says .*CASCADE.*database has .*RESTRICT/),
        "table Stray: in the database but not in schema.prisma",
      ]),
    );
  });
});
