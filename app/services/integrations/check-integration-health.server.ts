import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import { IntegrationEventType, type SetupInput } from "~/integrations/types";
import { logger } from "~/logger.server";
import { runPeriodically } from "~/services/jobs/periodic.server";
import { decryptAtRest } from "~/services/encryption.server";
import { triggerTasks } from "~/services/jobs.server";
import type { integrationHealthCheckTask } from "../../../trigger/integration-health-check";
import { markIntegrationHealthy, markIntegrationUnhealthy } from "./integration-health.server";
import { runIntegrationEvent } from "./run-integration.server";

export const INTEGRATION_HEALTH_CHECK_TASK_ID = "integration-health-check";

export type HealthCheckResult =
  | { state: "healthy"; changed: boolean }
  | { state: "unhealthy"; changed: boolean; reason: string }
  /** The provider could not be asked (down, rate-limited): nothing is concluded; the task retries. */
  | { state: "unknown"; reason: string }
  | { state: "gone" };

const StoredCredentials = z.object({
  accessToken: z.string().optional(),
  refreshToken: z.string().optional(),
  expiresAt: z.string().optional(),
  scope: z.string().optional(),
  apiKey: z.string().optional(),
  token: z.string().optional(),
});

/** The stored credentials, shaped as the SETUP input that produced them. */
function setupInputFor(
  authType: "OAUTH2" | "API_KEY" | "MCP",
  credentials: z.infer<typeof StoredCredentials>,
  settings: unknown,
): SetupInput | null {
  if (authType === "OAUTH2" && credentials.accessToken)
    return {
      kind: "oauth2",
      accessToken: credentials.accessToken,
      refreshToken: credentials.refreshToken,
      expiresAt: credentials.expiresAt,
      scope: credentials.scope,
    };
  if (authType === "API_KEY" && credentials.apiKey) return { kind: "api_key", apiKey: credentials.apiKey };
  const url = (settings as { url?: unknown } | null)?.url;
  if (authType === "MCP" && typeof url === "string") return { kind: "mcp", url, token: credentials.token };
  return null;
}

/**
 * Asks the provider whether the account's stored credentials still work, by running the
 * module's SETUP with them (the same check a connect makes). Refused credentials raise
 * integration.health_warning; an account in ERROR that works again raises health_cleared.
 */
export async function checkIntegrationHealth(
  integrationAccountId: string,
  db: Database = prisma,
): Promise<HealthCheckResult> {
  const account = await db.integrationAccount.findFirst({
    where: { id: integrationAccountId, deletedAt: null },
    select: {
      id: true,
      accountId: true,
      userId: true,
      status: true,
      credentials: true,
      settings: true,
      definition: { select: { slug: true, name: true, authType: true } },
    },
  });
  if (!account || !account.credentials) return { state: "gone" };
  const stored = StoredCredentials.safeParse(JSON.parse(decryptAtRest(account.credentials)));
  const input = stored.success ? setupInputFor(account.definition.authType, stored.data, account.settings) : null;
  if (!input) {
    const reason = `Echo has no usable credentials for this ${account.definition.name} account; reconnect it.`;
    const { changed } = await markIntegrationUnhealthy({ integrationAccountId: account.id, reason }, db);
    return { state: "unhealthy", changed, reason };
  }

  const messages = await runIntegrationEvent(account.definition.slug, {
    type: IntegrationEventType.SETUP,
    userId: account.userId,
    input,
  });
  const failure = messages.find((message) => message.type === "error");
  if (failure?.data.retryable) return { state: "unknown", reason: failure.data.message };
  const identified = messages.find((message) => message.type === "account");
  if (failure || !identified || identified.data.accountId !== account.accountId) {
    const reason =
      failure?.data.message ??
      `${account.definition.name} now identifies these credentials as another account; reconnect it.`;
    const { changed } = await markIntegrationUnhealthy({ integrationAccountId: account.id, reason }, db);
    return { state: "unhealthy", changed, reason };
  }
  const { changed } = await markIntegrationHealthy(
    { integrationAccountId: account.id, reason: `${account.definition.name} accepts the credentials again.` },
    db,
  );
  return { state: "healthy", changed };
}

const SCHEDULE_BATCH = 1000;

/**
 * Queues one health check per connected account, at most once per interval whatever the
 * number of workers (the idempotency key names the interval). Returns how many were queued.
 */
export async function scheduleIntegrationHealthChecks(intervalMs: number, db: Database = prisma): Promise<number> {
  const slot = Math.floor(Date.now() / intervalMs);
  let cursor: string | undefined;
  let total = 0;
  for (;;) {
    const accounts = await db.integrationAccount.findMany({
      where: { deletedAt: null, credentials: { not: null }, ...(cursor ? { id: { gt: cursor } } : {}) },
      orderBy: { id: "asc" },
      take: SCHEDULE_BATCH,
      select: { id: true },
    });
    if (accounts.length === 0) break;
    await triggerTasks<typeof integrationHealthCheckTask>(
      INTEGRATION_HEALTH_CHECK_TASK_ID,
      accounts.map((account) => ({
        payload: { integrationAccountId: account.id },
        idempotencyKey: `health:${account.id}:${slot}`,
      })),
    );
    total += accounts.length;
    cursor = accounts[accounts.length - 1]?.id;
    if (accounts.length < SCHEDULE_BATCH) break;
  }
  return total;
}

/** Runs the scheduling every interval in this process; returns a stop function. */
export function startIntegrationHealthScheduler({ intervalMs }: { intervalMs: number }): () => Promise<void> {
  // The first round waits one interval: a restart should not check everything again at once.
  return runPeriodically({
    name: "Queueing integration health checks",
    intervalMs,
    work: async () => {
      const count = await scheduleIntegrationHealthChecks(intervalMs);
      logger.info({ count }, "Integration health checks queued");
    },
  });
}
