import { chmodSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

// A fresh, throwaway Echo for every run: its own data folder, database and ports.
// Workers load this file again; the environment carries the main process's choice to them.
const dataDir = (process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(os.tmpdir(), "echo-e2e-")));
// When run as root, PostgreSQL runs as 'postgres' and must be able to enter the folder.
chmodSync(dataDir, 0o755);
export const POSTMARK_STAND_IN_PORT = Number(process.env.E2E_POSTMARK_PORT ?? 3291);
export const OAUTH_PROVIDER_STAND_IN_PORT = Number(process.env.E2E_OAUTH_PROVIDER_PORT ?? 3292);
export const MCP_STAND_IN_PORT = Number(process.env.E2E_MCP_PORT ?? 3293);
const oauthProvider = `http://127.0.0.1:${OAUTH_PROVIDER_STAND_IN_PORT}`;
const port = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://127.0.0.1:${port}`;

export const E2E_ENV = {
  ECHO_DATA_DIR: dataDir,
  PORT: String(port),
  APP_URL: baseURL,
  EMBEDDED_POSTGRES_PORT: process.env.E2E_POSTGRES_PORT ?? "54410",
  LOG_LEVEL: "warn",
  ENGINE_LEASE_MS: "2000",
  OUTBOX_SWEEP_INTERVAL_MS: "500",
  // Third parties are local stand-ins (tests/e2e/support/global-setup.ts starts them).
  POSTMARK_API_URL: `http://127.0.0.1:${POSTMARK_STAND_IN_PORT}`,
  LINEAR_CLIENT_ID: "echo-client",
  LINEAR_CLIENT_SECRET: "echo-secret",
  LINEAR_AUTHORIZE_URL: `${oauthProvider}/authorize`,
  LINEAR_TOKEN_URL: `${oauthProvider}/token`,
  LINEAR_API_URL: oauthProvider,
  OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
};

export default defineConfig({
  testDir: "tests/e2e",
  testMatch: "**/*.spec.ts",
  globalSetup: "./tests/e2e/support/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  outputDir: "test-results/playwright",
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "node --import tsx server/index.ts",
    url: `${baseURL}/login`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: E2E_ENV,
    // SIGTERM lets Echo stop its embedded PostgreSQL cleanly instead of being killed.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});
