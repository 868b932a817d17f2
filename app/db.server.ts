import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "~/generated/prisma/client";
import { requireSetting } from "~/env.server";

export type Database = InstanceType<typeof PrismaClient>;

export function createDatabaseClient(connectionString: string, { max = 10 }: { max?: number } = {}): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max }) });
}

// One client per process; kept on globalThis so the dev server's rebuilds reuse it.
const globalForPrisma = globalThis as unknown as { __echoPrisma?: Database };
export const prisma: Database = (globalForPrisma.__echoPrisma ??= createDatabaseClient(requireSetting("DATABASE_URL")));
