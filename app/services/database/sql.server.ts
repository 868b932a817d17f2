import pg from "pg";
import { poolOf, type Database } from "~/db.server";

/**
 * Plain SQL on the pg pool under a Prisma client, for the handful of statements the job
 * engine and the delivery path run for every delivery. Prisma's query engine costs about
 * 0.3 ms of CPU per statement on top of pg's own (more with large parameter arrays); on the
 * delivery path that was a quarter of the process's CPU. Everything else stays on Prisma.
 */

const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID) as (value: string) => Date;

/**
 * Prisma stores DateTime as `timestamp(3)` (no zone) in UTC; pg would read those as local time.
 * Infinity stays a string, as pg leaves it.
 */
const utcTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMP_OID && format !== "binary") {
      return (value: string) => (/^-?infinity$/.test(value) ? value : parseTimestamptz(`${value}+00`));
    }
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export type SqlRunner = Pick<pg.Pool, "query"> | pg.PoolClient;

/**
 * `name` makes it a prepared statement, parsed and planned once per connection: for the
 * delivery path's big statements, planning each call cost more than running it.
 */
export async function sql<Row extends object = Record<string, unknown>>(
  runner: SqlRunner,
  text: string,
  values: unknown[] = [],
  { name }: { name?: string } = {},
): Promise<{ rows: Row[]; rowCount: number }> {
  const result = await runner.query<Row & pg.QueryResultRow>({
    text,
    values,
    types: utcTypes,
    ...(name ? { name } : {}),
  });
  return { rows: result.rows, rowCount: result.rowCount ?? 0 };
}

/** `sql` on a Prisma client's pool. */
export function sqlOn<Row extends object = Record<string, unknown>>(
  db: Database,
  text: string,
  values: unknown[] = [],
  options: { name?: string } = {},
) {
  return sql<Row>(poolOf(db), text, values, options);
}

/** Runs `work` in one transaction on one connection of the client's pool; rolls back if it throws. */
export async function sqlTransaction<T>(db: Database, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await poolOf(db).connect();
  let broken = false;
  // A connection cut between two statements emits 'error' on the client, which would otherwise be uncaught;
  // the next statement then fails, and the connection is dropped.
  const onError = () => (broken = true);
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A connection that cannot even roll back is dropped, not handed to the next caller.
    await client.query("ROLLBACK").catch(() => (broken = true));
    throw error;
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

/** A string as an SQL literal, for sqlScript. */
export const literal = (value: string): string => pg.escapeLiteral(value);

/** A finite number as an SQL literal, for sqlScript. */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`Not a finite number: ${value}`);
  return String(value);
}

/**
 * Several statements sent in one round trip (the simple query protocol, hence no parameters:
 * build values with `literal`/`numberLiteral`). PostgreSQL runs them as one implicit
 * transaction, each with a fresh snapshot, and rolls all back if one fails. Returns the
 * rows of the last statement.
 */
export async function sqlScript<Row extends object = Record<string, unknown>>(
  db: Database,
  statements: string[],
): Promise<Row[]> {
  const results = (await poolOf(db).query({ text: statements.join(";\n"), types: utcTypes })) as unknown as
    pg.QueryResult<Row & pg.QueryResultRow> | pg.QueryResult<Row & pg.QueryResultRow>[];
  const last = Array.isArray(results) ? results.at(-1) : results;
  return last?.rows ?? [];
}
