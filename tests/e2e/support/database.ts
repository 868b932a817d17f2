import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { E2E_ENV } from "../../../playwright.config";

/**
 * The e2e server's own database (embedded, in its throwaway data folder), for arranging
 * what the UI cannot create yet and for checking what the server wrote.
 */
export async function e2eDatabase(): Promise<pg.Client> {
  const secrets = JSON.parse(readFileSync(path.join(E2E_ENV.ECHO_DATA_DIR, "secrets.json"), "utf8")) as {
    postgresPassword: string;
  };
  const client = new pg.Client({
    host: "127.0.0.1",
    port: Number(E2E_ENV.EMBEDDED_POSTGRES_PORT),
    user: "postgres",
    password: secrets.postgresPassword,
    database: "echo",
  });
  await client.connect();
  return client;
}
