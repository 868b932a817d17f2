import { z } from "zod";
import { parseAllowlistEntry } from "./webhooks/outbound-url";

/** The schema of every setting Echo reads; see README.md for what each one does. */
const booleanFromString = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

/**
 * A comma-separated setting as its trimmed, non-empty entries ("" is none), frozen: settings
 * never change after startup, so what is derived from them can be computed once.
 */
function commaSeparatedList() {
  return z
    .string()
    .default("")
    .transform((value): readonly string[] =>
      Object.freeze(
        value
          .split(",")
          .map((entry) => entry.trim())
          .filter(Boolean),
      ),
    );
}

export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    /** Public base URL, used in links, OAuth metadata and cookie security. */
    APP_URL: z.url().optional(),
    /** A real PostgreSQL; without it Echo starts an embedded one in ECHO_DATA_DIR. */
    DATABASE_URL: z.url().optional(),
    ECHO_DATA_DIR: z.string().min(1).default(".data"),
    EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    SESSION_SECRET: z.string().min(32, "SESSION_SECRET must be at least 32 characters").optional(),
    /** 32 bytes, base64: the AES-256-GCM key for secrets at rest. */
    ENCRYPTION_KEY: z
      .string()
      .refine((value) => Buffer.from(value, "base64").length === 32, "ENCRYPTION_KEY must be 32 bytes, base64-encoded")
      .optional(),
    /**
     * Keys that encrypted secrets before the last rotation, comma-separated, each 32 bytes base64:
     * used only to decrypt, until `npm run secrets:rotate` has re-encrypted everything with ENCRYPTION_KEY.
     */
    ENCRYPTION_KEYS_PREVIOUS: commaSeparatedList().superRefine((keys, context) => {
      keys.forEach((key, index) => {
        if (Buffer.from(key, "base64").length !== 32) {
          context.addIssue({
            code: "custom",
            message: `ENCRYPTION_KEYS_PREVIOUS: key ${index + 1} must be 32 bytes, base64-encoded`,
          });
        }
      });
    }),
    /** Host part of the `mcp://<host>/<provider>/<account_id>` endpoints in integration events. */
    MCP_HOST: z.string().min(1).optional(),
    /**
     * Hosts, IPs or CIDRs that outbound requests (webhooks, MCP servers) may reach even
     * though they are private or loopback, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`.
     * The launcher's local default (embedded database) allows loopback.
     */
    OUTBOUND_ALLOWED_HOSTS: commaSeparatedList().superRefine((entries, context) => {
      // A typo here would silently allow nothing (or the wrong thing): fail at start-up instead.
      for (const entry of entries) {
        const parsed = parseAllowlistEntry(entry);
        if (!parsed.ok) context.addIssue({ code: "custom", message: parsed.error });
      }
    }),
    /** Let OAuth apps use plain-http webhook URLs even when Echo itself is served over https. */
    ALLOW_INSECURE_WEBHOOK_URLS: booleanFromString.default(false),
    /** Run the embedded task engine and outbox sweeper in this process (when Trigger.dev is not configured). */
    WORKER_ENABLED: booleanFromString.default(true),
    /** How long a worker owns a claimed task run without a heartbeat; after a crash, runs resume after it. */
    ENGINE_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
    OUTBOX_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
    /** An open delivery overdue by this long with no run gets one from the delivery sweeper (a lost trigger). */
    DELIVERY_SWEEP_AFTER_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(24 * 60 * 60)
      .default(300),
    /** Finished embedded-engine runs older than this many days are deleted, hourly (0: kept forever). */
    TASK_RUN_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
    /** Finished deliveries (with their attempts) and their events older than this many days are deleted, hourly (0: kept forever). */
    DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
    /** How often every connected integration's credentials are checked with its provider (0: never). */
    INTEGRATION_HEALTH_CHECK_INTERVAL_MINUTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(360),
    /** A webhook target failing without a single success for this long is disabled. */
    WEBHOOK_DISABLE_AFTER_HOURS: z.coerce
      .number()
      .min(1)
      .max(24 * 90)
      .default(5 * 24),
    // Integrations that Echo connects to as an OAuth 2.0 client. A provider without a
    // client id and secret shows as "not configured" in the catalog.
    LINEAR_CLIENT_ID: z.string().min(1).optional(),
    LINEAR_CLIENT_SECRET: z.string().min(1).optional(),
    LINEAR_AUTHORIZE_URL: z.url().default("https://linear.app/oauth/authorize"),
    LINEAR_TOKEN_URL: z.url().default("https://api.linear.app/oauth/token"),
    LINEAR_API_URL: z.url().default("https://api.linear.app"),
    SLACK_CLIENT_ID: z.string().min(1).optional(),
    SLACK_CLIENT_SECRET: z.string().min(1).optional(),
    SLACK_AUTHORIZE_URL: z.url().default("https://slack.com/oauth/v2/authorize"),
    SLACK_TOKEN_URL: z.url().default("https://slack.com/api/oauth.v2.access"),
    SLACK_API_URL: z.url().default("https://slack.com/api"),
    GITHUB_CLIENT_ID: z.string().min(1).optional(),
    GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
    GITHUB_AUTHORIZE_URL: z.url().default("https://github.com/login/oauth/authorize"),
    GITHUB_TOKEN_URL: z.url().default("https://github.com/login/oauth/access_token"),
    GITHUB_API_URL: z.url().default("https://api.github.com"),
    /** The API-key integration (Postmark server tokens). */
    POSTMARK_API_URL: z.url().default("https://api.postmarkapp.com"),
    SEED_DEMO_DATA: booleanFromString.default(true),
    /** Users who are operators (the runs console, publishing for any user), besides the first user. */
    ECHO_ADMIN_EMAILS: commaSeparatedList()
      .transform((emails) => Object.freeze(emails.map((email) => email.toLowerCase())))
      .superRefine((emails, context) => {
        for (const email of emails) {
          if (!z.email().safeParse(email).success) {
            context.addIssue({ code: "custom", message: `ECHO_ADMIN_EMAILS: "${email}" is not an email address` });
          }
        }
      }),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    TRIGGER_SECRET_KEY: z.string().min(1).optional(),
    TRIGGER_API_URL: z.url().optional(),
    /** Where the runs console links a Trigger.dev run (`<url>/runs/<runId>`): Trigger.dev cloud, or a self-hosted dashboard. */
    TRIGGER_DASHBOARD_URL: z.url().default("https://cloud.trigger.dev"),
    TRIGGER_PROJECT_REF: z.string().min(1).optional(),
  })
  .transform((raw) => ({
    ...raw,
    APP_URL: raw.APP_URL ?? `http://localhost:${raw.PORT}`,
    MCP_HOST: raw.MCP_HOST ?? new URL(raw.APP_URL ?? `http://localhost:${raw.PORT}`).host,
  }));

export type Env = z.infer<typeof EnvSchema>;

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new Error(`Invalid environment configuration:\n${problems}`);
  }
  return result.data;
}
