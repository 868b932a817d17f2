import { prisma, type Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import { logger } from "~/logger.server";
import { dispatchEventsOf, publishEvent } from "~/services/webhooks/publish.server";

type HealthAccount = {
  id: string;
  accountId: string;
  userId: string;
  definition: { slug: string; name: string };
};

function healthPayload(
  type: "integration.health_warning" | "integration.health_cleared",
  account: HealthAccount,
  reason: string,
  occurredAt: Date,
) {
  return {
    event: type,
    user_id: account.userId,
    integration: {
      id: account.id,
      provider: account.definition.slug,
      account_id: account.accountId,
      name: account.definition.name,
    },
    reason,
    timestamp: occurredAt.toISOString(),
  };
}

/**
 * Moves a live account from one health state to the other and records the event that says
 * so, in one transaction; an account already in the target state changes nothing.
 */
async function switchAccountHealth(
  db: Database,
  integrationAccountId: string,
  { from, to, reason }: { from: "ACTIVE" | "ERROR"; to: "ACTIVE" | "ERROR"; reason: string },
): Promise<{ changed: boolean }> {
  const changed = await db.$transaction(async (tx) => {
    const account = await tx.integrationAccount.findFirst({
      where: { id: integrationAccountId, deletedAt: null, status: from },
      select: { id: true, accountId: true, userId: true, definition: { select: { slug: true, name: true } } },
    });
    if (!account) return false;
    await tx.integrationAccount.update({ where: { id: account.id }, data: { status: to } });
    const type = to === "ERROR" ? "integration.health_warning" : "integration.health_cleared";
    const occurredAt = new Date();
    await publishEvent(account.userId, type, healthPayload(type, account, reason, occurredAt), {
      tx,
      source: `integration:${account.id}`,
      occurredAt,
    });
    return true;
  });
  if (changed) {
    logger.info({ integrationAccountId, health: to, reason }, "Integration health changed");
    await dispatchEventsOf(`integration:${integrationAccountId}`);
  }
  return { changed };
}

/**
 * An integration stopped working (the provider refused its credentials, say): the account
 * goes to ERROR and integration.health_warning is recorded, once per episode.
 */
export function markIntegrationUnhealthy(
  { integrationAccountId, reason }: { integrationAccountId: string; reason: string },
  db: Database = prisma,
): Promise<{ changed: boolean }> {
  return switchAccountHealth(db, integrationAccountId, { from: "ACTIVE", to: "ERROR", reason });
}

/** The account works again (its provider accepted the credentials): ACTIVE, and integration.health_cleared. */
export function markIntegrationHealthy(
  { integrationAccountId, reason }: { integrationAccountId: string; reason: string },
  db: Database = prisma,
): Promise<{ changed: boolean }> {
  return switchAccountHealth(db, integrationAccountId, { from: "ERROR", to: "ACTIVE", reason });
}

/**
 * Inside the reconnect transaction: an account that was in ERROR works again, so its
 * warning is cleared (integration.health_cleared), next to the integration.connected event.
 */
export async function recordHealthClearedOnReconnect(
  tx: Prisma.TransactionClient,
  account: HealthAccount & { previousStatus: string },
): Promise<void> {
  if (account.previousStatus !== "ERROR") return;
  const occurredAt = new Date();
  await publishEvent(
    account.userId,
    "integration.health_cleared",
    healthPayload("integration.health_cleared", account, "The integration was reconnected.", occurredAt),
    { tx, source: `integration:${account.id}`, occurredAt },
  );
}
