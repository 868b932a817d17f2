import { prisma, type Database } from "~/db.server";
import { Prisma } from "~/generated/prisma/client";
import type { AccountMessage } from "~/integrations/types";
import { encryptAtRest } from "~/services/encryption.server";
import { recordHealthClearedOnReconnect } from "./integration-health.server";
import { recordIntegrationEvent, triggerOAuthIntegrationWebhook } from "~/services/webhooks/integration-events.server";

type Definition = { id: string; slug: string; name: string; icon: string };

type AccountInput = { userId: string; definition: Definition; message: AccountMessage };

/**
 * Creates the account, or re-activates the one this user already has for the same external
 * account, together with its integration.connected outbox event: both or neither.
 */
export async function createIntegrationAccount(
  db: Database,
  input: AccountInput,
): Promise<{ id: string; accountId: string; reconnected: boolean }> {
  try {
    return await writeIntegrationAccount(db, input);
  } catch (error) {
    // Two connects of the same account at once (a double submit): the loser of the race
    // hits the unique key, and its retry finds the winner's row and re-activates it.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")
      return writeIntegrationAccount(db, input);
    throw error;
  }
}

async function writeIntegrationAccount(
  db: Database,
  { userId, definition, message }: AccountInput,
): Promise<{ id: string; accountId: string; reconnected: boolean }> {
  const credentials = encryptAtRest(JSON.stringify(message.data.credentials));
  return db.$transaction(async (tx) => {
    const key = { userId, integrationDefinitionId: definition.id, accountId: message.data.accountId };
    const existing = await tx.integrationAccount.findUnique({
      where: { userId_integrationDefinitionId_accountId: key },
      select: { id: true, status: true },
    });
    const fields = {
      displayName: message.data.displayName,
      settings: message.data.settings as object,
      credentials,
      status: "ACTIVE" as const,
      deletedAt: null,
      connectedAt: new Date(),
    };
    const account = existing
      ? await tx.integrationAccount.update({
          where: { id: existing.id },
          data: fields,
          select: { id: true, accountId: true },
        })
      : await tx.integrationAccount.create({ data: { ...key, ...fields }, select: { id: true, accountId: true } });
    await recordIntegrationEvent(tx, { type: "integration.connected", userId, account, definition });
    if (existing) {
      await recordHealthClearedOnReconnect(tx, { ...account, userId, definition, previousStatus: existing.status });
    }
    return { ...account, reconnected: Boolean(existing) };
  });
}

/** The seed's handleAccountMessage: the account first; the webhook after the commit, never failing it. */
export async function handleAccountMessage(
  { userId, definition, message }: { userId: string; definition: Definition; message: AccountMessage },
  db: Database = prisma,
) {
  const integrationAccount = await createIntegrationAccount(db, { userId, definition, message });
  await triggerOAuthIntegrationWebhook(integrationAccount.id, userId);
  return integrationAccount;
}
