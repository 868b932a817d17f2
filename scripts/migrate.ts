// `npm run db:migrate`: apply prisma/migrations to DATABASE_URL without starting the app.
import { parseEnv } from "../app/lib/env-schema.ts";
import { migrateDatabase } from "../app/services/database/migrate.server.ts";

const env = parseEnv(process.env);
if (!env.DATABASE_URL) {
  console.error("Set DATABASE_URL to the database to migrate (npm start migrates its embedded database by itself).");
  process.exit(1);
}
const applied = await migrateDatabase(env.DATABASE_URL);
console.log(applied.length ? `Applied: ${applied.join(", ")}` : "Database is up to date.");
