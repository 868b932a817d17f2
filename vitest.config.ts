import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "~": path.resolve(import.meta.dirname, "app") };

// `FAULTS_SCALE=4 npm run test:faults` multiplies every fault scenario's event count (and its time budget).
const faultsScale = Math.max(1, Math.floor(Number(process.env.FAULTS_SCALE ?? "1")) || 1);

// Fixed test secrets: tests never touch a real deployment's data.
const testEnv = {
  NODE_ENV: "test" as const,
  LOG_LEVEL: "silent",
  SESSION_SECRET: "test-session-secret-test-session-secret-0123456789",
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
  APP_URL: "http://localhost:3000",
  // Test receivers listen on loopback; production refuses it unless allowlisted.
  OUTBOUND_ALLOWED_HOSTS: "127.0.0.1,::1,localhost",
  MCP_HOST: "echo.test",
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          environment: "node",
          env: testEnv,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          env: testEnv,
          globalSetup: ["tests/support/postgres-global-setup.ts"],
          setupFiles: ["tests/support/database-per-file.ts"],
          pool: "forks",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "faults",
          include: ["tests/faults/**/*.test.ts"],
          environment: "node",
          env: { ...testEnv, FAULTS_SCALE: String(faultsScale) },
          globalSetup: ["tests/support/postgres-global-setup.ts"],
          setupFiles: ["tests/support/database-per-file.ts"],
          pool: "forks",
          // ~15-30 s each on an idle machine; the margin is for a 2-core machine shared with others.
          testTimeout: 180_000 * faultsScale,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
