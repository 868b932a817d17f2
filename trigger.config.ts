import { defineConfig } from "@trigger.dev/sdk";
import { parseEnv } from "./app/lib/env-schema";

// Read by the Trigger.dev CLI (`npx trigger.dev deploy` / `dev`), through the same schema as the app.
const env = parseEnv(process.env);

export default defineConfig({
  project: env.TRIGGER_PROJECT_REF ?? "proj_echo_not_configured",
  dirs: ["./trigger"],
  runtime: "node",
  logLevel: "info",
  // Each task sets its own; these apply to any task that does not.
  retries: {
    enabledInDev: true,
    default: { maxAttempts: 3, minTimeoutInMs: 1_000, maxTimeoutInMs: 60_000, factor: 2, randomize: true },
  },
  maxDuration: 300,
});
