import { defineConfig } from "prisma/config";

// Only `prisma generate` and `prisma migrate deploy` read this file; the app and
// tests connect through app/db.server.ts with the URL from app/env.server.ts.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/echo" },
});
