import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type pg from "pg";
import { poolOf, prisma, type Database } from "~/db.server";
import { sql, sqlOn, sqlTransaction, type SqlRunner } from "~/services/database/sql.server";
import { logger } from "~/logger.server";
import { decryptAtRest } from "~/services/encryption.server";
import { GroupCommit } from "~/services/jobs/group-commit.server";
import { outboundDispatcher } from "~/services/outbound.server";
import { attemptWebhookDelivery, sendClaimedAttempt } from "./deliver-webhook.server";
import {
  attemptOutcome,
  attemptSummary,
  interruptedAttempt,
  oauthAppTarget,
  type AttemptRow,
  type AppWebhookColumns,
  type ClaimedAttempt,
  type DeliveryAttemptResult,
  type DeliveryStatus,
  type HealthChange as TargetHealthChange,
} from "./delivery-decisions.server";

/**
 * attemptWebhookDelivery (deliver-webhook.server.ts) for the embedded engine's hot path: the
 * same claim, signatures, POST, attempt row and state change, but the database work of every
 * delivery in flight in this process goes in shared statements (group commit): one claim
 * statement (which also reads the app's settings) and one statement that writes the attempts
 * and the new states. Only deliveries to OAuth apps take this path; anything else (an
 * endpoint, a row another run holds, a finished one) goes through attemptWebhookDelivery.
 */

/** The claimed delivery and its app's settings, read by the claim statement. */
type ClaimedRow = ClaimedAttempt & AppWebhookColumns & { oauthClientId: string };

type HealthChange = TargetHealthChange & { clientId: string };

type AttemptRecord = AttemptRow & { status: DeliveryStatus; completedAt: Date | null; health: HealthChange | null };

type Recorded = { ok: true } | { ok: false; error: unknown };

const SECRET_CACHE_MS = 60_000;
const SECRET_CACHE_MAX = 10_000;
/** Keyed by ciphertext: a rotated secret is a new key, so the cache can never sign with an old one. */
const secretCache = new Map<string, { plaintext: string; expiresAt: number }>();

function decryptCached(ciphertext: string): string {
  const now = Date.now();
  const hit = secretCache.get(ciphertext);
  if (hit && hit.expiresAt > now) return hit.plaintext;
  const plaintext = decryptAtRest(ciphertext);
  if (secretCache.size >= SECRET_CACHE_MAX) secretCache.clear();
  secretCache.set(ciphertext, { plaintext, expiresAt: now + SECRET_CACHE_MS });
  return plaintext;
}

async function claimDeliveries(db: Database, requested: string[]): Promise<(ClaimedRow | null)[]> {
  const ids = [...new Set(requested)];
  // Rows are locked in id order, so two claims running at once cannot deadlock.
  const { rows } = await sqlOn<ClaimedRow>(
    db,
    `
    WITH previous AS (
      SELECT d.id, d.status, d."lockedUntil" FROM "WebhookDelivery" d
      WHERE d.id = ANY($1::text[]) AND d."oauthClientId" IS NOT NULL
      ORDER BY d.id
      FOR UPDATE
    )
    UPDATE "WebhookDelivery" AS d
    SET status = 'SENDING', "attemptCount" = d."attemptCount" + 1,
        "lockedUntil" = now() + make_interval(secs => ((c."webhookTimeoutMs" + 5000) / 1000.0)::float8),
        "updatedAt" = now()
    FROM previous, "OAuthClient" c
    WHERE d.id = previous.id AND c.id = d."oauthClientId"
      AND (previous.status IN ('PENDING', 'RETRYING')
           OR (previous.status = 'SENDING' AND (previous."lockedUntil" IS NULL OR previous."lockedUntil" <= now())))
    RETURNING d.id, d."eventId", d."oauthClientId", d."eventType", d.url, d.body, d."attemptCount", d."maxAttempts",
              previous.status::text AS "previousStatus", previous."lockedUntil" AS "previousLockedUntil",
              c."webhookUrl", c."webhookSecret", c."previousWebhookSecret", c."previousSecretExpiresAt",
              c."webhookTimeoutMs", c."webhookRetryBaseDelayMs", c."webhookDisabledAt", c."webhookDisabledReason",
              c."webhookFailingSince", c."deletedAt"`,
    [ids],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  // The same delivery twice in one batch (two runs for it): only the first sends.
  return requested.map((id) => {
    const row = byId.get(id) ?? null;
    byId.delete(id);
    return row;
  });
}

const text = (value: unknown) => (value === null || value === undefined ? null : String(value));

function recordStatement(client: SqlRunner, records: AttemptRecord[]) {
  const column = <T>(pick: (record: AttemptRecord) => T) => records.map(pick);
  // Times travel as epoch milliseconds and are stored as Prisma stores them: UTC, millisecond precision.
  return sql(
    client,
    `
    WITH input AS (
      SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]
      ) AS t(attempt_id, delivery_id, attempt_number, started_ms, duration_ms, request_url, request_headers,
             response_status, response_headers, response_body, error, next_ms, state, completed_ms)
    ), attempts AS (
      INSERT INTO "DeliveryAttempt" (id, "deliveryId", "attemptNumber", "startedAt", "durationMs", "requestUrl",
        "requestHeaders", "responseStatus", "responseHeaders", "responseBody", error, "nextAttemptAt")
      SELECT attempt_id, delivery_id, attempt_number::int, to_timestamp(started_ms::float8 / 1000) AT TIME ZONE 'UTC',
        duration_ms::int, request_url, request_headers::jsonb, response_status::int, response_headers::jsonb,
        response_body, error, to_timestamp(next_ms::float8 / 1000) AT TIME ZONE 'UTC'
      FROM input
    )
    UPDATE "WebhookDelivery" AS d
    SET status = input.state::"WebhookDeliveryStatus", "lastStatusCode" = input.response_status::int,
        "lastError" = CASE WHEN input.state = 'SUCCESS' THEN NULL ELSE input.error END,
        "nextAttemptAt" = to_timestamp(input.next_ms::float8 / 1000) AT TIME ZONE 'UTC', "lockedUntil" = NULL,
        "completedAt" = to_timestamp(input.completed_ms::float8 / 1000) AT TIME ZONE 'UTC', "updatedAt" = now()
    FROM input
    WHERE d.id = input.delivery_id`,
    [
      column(() => randomUUID()),
      column((r) => r.deliveryId),
      column((r) => String(r.attemptNumber)),
      column((r) => String(r.startedAt.getTime())),
      column((r) => String(r.durationMs)),
      column((r) => r.requestUrl),
      column((r) => JSON.stringify(r.requestHeaders)),
      column((r) => text(r.responseStatus)),
      column((r) => (r.responseHeaders ? JSON.stringify(r.responseHeaders) : null)),
      column((r) => r.responseBody),
      column((r) => r.error),
      column((r) => text(r.nextAttemptAt?.getTime())),
      column((r) => r.status),
      column((r) => text(r.completedAt?.getTime())),
    ],
  );
}

/** The apps' health rows, as Prisma's updateMany would write them (with `updatedAt`). */
async function recordHealth(client: pg.PoolClient, records: AttemptRecord[]): Promise<void> {
  // Per app, the last change in the batch is the app's state now.
  const latest = new Map<string, HealthChange>();
  for (const record of records) if (record.health) latest.set(record.health.clientId, record.health);
  for (const change of latest.values()) {
    if (change.kind === "recovered") {
      await sql(
        client,
        `UPDATE "OAuthClient" SET "webhookFailingSince" = NULL, "updatedAt" = now()
         WHERE id = $1 AND "webhookFailingSince" IS NOT NULL`,
        [change.clientId],
      );
    } else {
      await sql(
        client,
        `UPDATE "OAuthClient"
         SET "webhookFailingSince" = to_timestamp($2::float8 / 1000) AT TIME ZONE 'UTC',
             "webhookDisabledAt" = CASE WHEN $3::float8 IS NULL THEN "webhookDisabledAt"
                                        ELSE to_timestamp($3::float8 / 1000) AT TIME ZONE 'UTC' END,
             "webhookDisabledReason" = CASE WHEN $3::float8 IS NULL THEN "webhookDisabledReason" ELSE $4 END,
             "updatedAt" = now()
         WHERE id = $1`,
        [
          change.clientId,
          change.failingSince.getTime(),
          change.disable ? change.disable.at.getTime() : null,
          change.disable?.reason ?? null,
        ],
      );
    }
  }
}

async function recordAttempts(db: Database, records: AttemptRecord[]): Promise<Recorded[]> {
  // The requests are already sent: the pool's connect waits for a free connection however long the database
  // is busy, rather than lose their outcomes (see recordOutcome in deliver-webhook.server.ts).
  // Usually no app's health changes, and the one statement is its own transaction: one round trip.
  const write = (batch: AttemptRecord[]) =>
    batch.some((record) => record.health)
      ? sqlTransaction(db, async (client) => {
          await recordStatement(client, batch);
          await recordHealth(client, batch);
        })
      : recordStatement(poolOf(db), batch);
  try {
    await write(records);
    return records.map(() => ({ ok: true }));
  } catch (error) {
    if (records.length === 1) return [{ ok: false, error }];
    // One bad row must not fail the others: write them one by one.
    return Promise.all(
      records.map((record) =>
        write([record]).then(
          (): Recorded => ({ ok: true }),
          (recordError: unknown): Recorded => ({ ok: false, error: recordError }),
        ),
      ),
    );
  }
}

type Groups = {
  claims: GroupCommit<string, ClaimedRow | null>;
  records: GroupCommit<AttemptRecord, Recorded>;
};
const groupsByDb = new WeakMap<Database, Groups>();

function groupsFor(db: Database): Groups {
  let groups = groupsByDb.get(db);
  if (!groups) {
    groups = {
      claims: new GroupCommit((ids) => claimDeliveries(db, ids), { maxBatch: 500 }),
      records: new GroupCommit((records) => recordAttempts(db, records), { maxBatch: 500 }),
    };
    groupsByDb.set(db, groups);
  }
  return groups;
}

export async function attemptWebhookDeliveryGrouped(
  deliveryId: string,
  { db = prisma, dispatcher = outboundDispatcher() }: { db?: Database; dispatcher?: Dispatcher } = {},
): Promise<DeliveryAttemptResult> {
  const groups = groupsFor(db);
  const claimed = await groups.claims.add(deliveryId);
  if (!claimed) return attemptWebhookDelivery(deliveryId, { db, dispatcher });

  const interrupted = interruptedAttempt(claimed, new Date());
  if (interrupted) await db.deliveryAttempt.createMany({ data: [interrupted], skipDuplicates: true });
  // As in attemptWebhookDelivery, a secret that cannot be decrypted throws (the engine retries).
  const target = oauthAppTarget(claimed, { now: new Date(), decrypt: decryptCached });
  const { record, verdict } = await sendClaimedAttempt(claimed, target, dispatcher);

  const recorded = await groups.records.add({
    ...record,
    status: verdict.status,
    completedAt: verdict.completedAt,
    health: verdict.health && { ...verdict.health, clientId: claimed.oauthClientId },
  });
  if (!recorded.ok) throw recorded.error;

  logger.info(attemptSummary({ delivery: claimed, record, verdict }), "Webhook delivery attempt");
  if (verdict.disableReason)
    logger.warn({ oauthClientId: claimed.oauthClientId, reason: verdict.disableReason }, "Webhook target disabled");

  return attemptOutcome(verdict);
}
