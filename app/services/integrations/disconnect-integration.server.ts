import { prisma, type Database } from "~/db.server";
import { recordIntegrationEvent, triggerOAuthIntegrationWebhook } from "~/services/webhooks/integration-events.server";

/** Soft-deletes the user's own account and records integration.disconnected, in one transaction. */
export async function disconnectIntegration(
  { userId, integrationAccountId }: { userId: string; integrationAccountId: string },
  db: Database = prisma,
): Promise<{ ok: true } | { ok: false; status: 404; error: string }> {
  const result = await db.$transaction(async (tx) => {
    const account = await tx.integrationAccount.findFirst({
      where: { id: integrationAccountId, userId, deletedAt: null },
      select: { id: true, accountId: true, definition: { select: { slug: true, name: true, icon: true } } },
    });
    if (!account) return null;
    await tx.integrationAccount.update({
      where: { id: account.id },
      data: { deletedAt: new Date(), status: "DISCONNECTED", credentials: null },
    });
    await recordIntegrationEvent(tx, {
      type: "integration.disconnected",
      userId,
      account,
      definition: account.definition,
    });
    return account;
  });
  if (!result) return { ok: false, status: 404, error: "No such connected integration." };
  await triggerOAuthIntegrationWebhook(result.id, userId);
  return { ok: true };
}
