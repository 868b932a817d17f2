import { afterAll } from "vitest";
import { createTestDatabase } from "./database";

// Each integration test file gets its own migrated database, and `~/db.server` (imported
// after this runs) connects to it.
const database = await createTestDatabase();
process.env.DATABASE_URL = database.url;

afterAll(async () => {
  const { prisma } = await import("~/db.server");
  await prisma.$disconnect();
  await database.drop();
});
