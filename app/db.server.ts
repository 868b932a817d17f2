import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "~/generated/prisma/client";
import { requireSetting } from "~/env.server";
import { logger } from "~/logger.server";

export type Database = InstanceType<typeof PrismaClient>;

/**
 * The pg pool under each client, for the few hot statements that skip Prisma's query engine
 * (see sql.server.ts). On globalThis: the Remix bundle has its own copy of this module and
 * shares the client with the server's. Keyed by identity, so a transaction client (a proxy
 * that reads through to its client's properties) never finds a pool outside its transaction.
 */
const globalForPools = globalThis as unknown as { __echoPools?: WeakMap<object, pg.Pool> };
const pools = (globalForPools.__echoPools ??= new WeakMap());

export function createDatabaseClient(connectionString: string, { max = 10 }: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString, max });
  // An idle connection the server closes (a restart) must not crash the process; the next query reconnects.
  // pg attaches the whole client (with every prepared statement's text) to the error: log what says why.
  pool.on("error", (error: Error & { code?: string }) =>
    logger.warn({ code: error.code, reason: error.message }, "An idle database connection failed"),
  );
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/** Closes the client and the pool under it (before the database stops, so no idle connection is cut). */
export async function disconnectDatabase(db: Database): Promise<void> {
  await db.$disconnect();
  const pool = findPool(db);
  if (pool && !pool.ended) await pool.end();
}

/** The connection pool a client made by createDatabaseClient queries through; none for a transaction client. */
export function findPool(db: object): pg.Pool | undefined {
  return pools.get(db);
}

export function poolOf(db: Database): pg.Pool {
  const pool = findPool(db);
  if (!pool) throw new Error("This database client was not made by createDatabaseClient; it has no pool to share.");
  return pool;
}

// One client per process; kept on globalThis so the dev server's rebuilds reuse it.
const globalForPrisma = globalThis as unknown as { __echoPrisma?: Database };
export const prisma: Database = (globalForPrisma.__echoPrisma ??= createDatabaseClient(requireSetting("DATABASE_URL")));
