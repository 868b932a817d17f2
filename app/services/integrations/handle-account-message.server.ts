import { randomUUID } from "node:crypto";
import { prisma, type Database } from "~/db.server";
import { Prisma } from "~/generated/prisma/client";
import type { AccountMessage } from "~/integrations/types";
import { encryptAtRest } from "~/services/encryption.server";
import { recordHealthClearedOnReconnect } from "./integration-health.server";
import { sqlOn } from "~/services/database/sql.server";
import { usesTriggerDev } from "~/services/jobs.server";
import { TASK_RUN_CHANNEL } from "~/services/jobs/task-runs.server";
import { embeddedFanOutRunsSql } from "~/services/webhooks/outbox-dispatcher.server";
import {
  integrationEventPayload,
  integrationEventSource,
  recordIntegrationEvent,
  triggerOAuthIntegrationWebhook,
} from "~/services/webhooks/integration-events.server";
import { builtInEvent } from "~/services/webhooks/publish.server";

type Definition = { id: string; slug: string; name: string; icon: string };

type AccountInput = { userId: string; definition: Definition; message: AccountMessage };

/** The account written, and whether its event was handed to the fan-out in the same statement. */
type WrittenAccount = { id: string; accountId: string; reconnected: boolean; handedOver: boolean };

/**
 * Creates the account, or re-activates the one this user already has for the same external
 * account, together with its integration.connected outbox event: both or neither.
 */
export async function createIntegrationAccount(db: Database, input: AccountInput): Promise<WrittenAccount> {
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

async function writeIntegrationAccount(db: Database, input: AccountInput): Promise<WrittenAccount> {
  const credentials = encryptAtRest(JSON.stringify(input.message.data.credentials));
  return (await insertNewAccount(db, input, credentials)) ?? reactivateOrCreateAccount(db, input, credentials);
}

/**
 * The common case, a first connect, in one statement: the account and its
 * integration.connected outbox event, both or neither. Null when the account already exists
 * (a reconnect), which reactivateOrCreateAccount handles. The event is made and checked by the
 * publish module (builtInEvent), like every other; only its INSERT rides in the account's statement.
 */
async function insertNewAccount(
  db: Database,
  { userId, definition, message }: AccountInput,
  credentials: string,
): Promise<WrittenAccount | null> {
  const account = { id: randomUUID(), accountId: message.data.accountId };
  const occurredAt = new Date();
  const event = builtInEvent(
    userId,
    "integration.connected",
    integrationEventPayload({ type: "integration.connected", userId, account, definition }, occurredAt),
    { source: integrationEventSource(account.id), occurredAt },
  );
  // On the embedded engine the statement queues the event's fan-out run too (as publishEvent does):
  // one round trip and one commit per connect, nothing left for the dispatcher.
  const handOver = !usesTriggerDev;
  const { rows } = await sqlOn<{ id: string | null }>(
    db,
    `WITH account AS (
       INSERT INTO "IntegrationAccount" (id, "userId", "integrationDefinitionId", "accountId", "displayName", settings,
         credentials, status, "connectedAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 'ACTIVE', to_timestamp($8::float8 / 1000) AT TIME ZONE 'UTC', now())
       ON CONFLICT ("userId", "integrationDefinitionId", "accountId") DO NOTHING
       RETURNING id
     ), event AS (
       INSERT INTO "WebhookEvent" (id, type, "userId", source, payload, "createdAt", "dispatchedAt", "dispatchAttempts")
       SELECT $9, 'integration.connected', $2, $10, $11::jsonb, to_timestamp($8::float8 / 1000) AT TIME ZONE 'UTC',
              CASE WHEN $12::boolean THEN now() END, CASE WHEN $12::boolean THEN 1 ELSE 0 END
       FROM account
       RETURNING id, type
     ), handed AS (
       SELECT id, type FROM event WHERE $12::boolean
     ), runs AS (
       ${embeddedFanOutRunsSql("handed")}
       RETURNING "taskId"
     ), woken AS (
       SELECT pg_notify($13, string_agg(DISTINCT "taskId", ',')) FROM runs HAVING count(*) > 0
     )
     SELECT (SELECT id FROM account) AS id, (SELECT count(*) FROM woken)::int AS woken`,
    [
      account.id,
      userId,
      definition.id,
      account.accountId,
      message.data.displayName ?? null,
      JSON.stringify(message.data.settings ?? {}),
      credentials,
      occurredAt.getTime(),
      event.id,
      event.source,
      JSON.stringify(event.payload),
      handOver,
      TASK_RUN_CHANNEL,
    ],
  );
  return rows[0]?.id ? { ...account, reconnected: false, handedOver: handOver } : null;
}

async function reactivateOrCreateAccount(
  db: Database,
  { userId, definition, message }: AccountInput,
  credentials: string,
): Promise<WrittenAccount> {
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
    return { ...account, reconnected: Boolean(existing), handedOver: false };
  });
}

/** The seed's handleAccountMessage: the account first; the webhook after the commit, never failing it. */
export async function handleAccountMessage(
  { userId, definition, message }: { userId: string; definition: Definition; message: AccountMessage },
  db: Database = prisma,
) {
  const integrationAccount = await createIntegrationAccount(db, { userId, definition, message });
  if (!integrationAccount.handedOver) await triggerOAuthIntegrationWebhook(integrationAccount.id, userId);
  return integrationAccount;
}
