import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type pg from "pg";
import { poolOf, type Database } from "~/db.server";
import { sql, sqlOn, sqlTransaction, type SqlRunner } from "~/services/database/sql.server";
import { logger } from "~/logger.server";
import { decryptAtRest } from "~/services/encryption.server";
import { GroupCommit } from "~/services/jobs/group-commit.server";
import { TASK_RUN_CHANNEL } from "~/services/jobs/task-runs.server";
import { openCustomHeaders } from "./custom-headers.server";
import { parseStoredCustomHeaders, sendClaimedAttempt } from "./deliver-webhook.server";
import {
  attemptSummary,
  attemptVerdict,
  endpointTarget,
  interruptedAttempt,
  oauthAppTarget,
  operationalOutcome,
  type AppWebhookColumns,
  type AttemptRow,
  type AttemptTarget,
  type ClaimedAttempt,
  type DeliveryStatus,
  type EndpointWebhookColumns,
  type HealthChange,
} from "./delivery-decisions.server";
import {
  deliveryExhaustedEvent,
  DISABLE_ENDPOINT_SQL,
  disableEndpointValues,
  endpointDisabledEvent,
  OPERATIONAL_TYPES_SQL,
  type EndpointSubject,
} from "./operational-events.server";
import { dispatchEvents, recordEvents, type OutboxEvent } from "./publish.server";

/**
 * The embedded engine's delivery queue (ADR 011): the WebhookDelivery row is the queue entry.
 * One statement claims due deliveries straight from the table (with their target's settings),
 * one statement records a batch of attempts; there is no TaskRun per delivery. The decisions
 * of an attempt (signatures, verdict, retry time, health) are delivery-decisions.server.ts's,
 * the same as on the Trigger.dev path (attemptWebhookDelivery).
 */

/** The task whose definition (trigger/webhook-delivery.ts) sets the queue's limits; wake-ups name it. */
export const DELIVERY_QUEUE_TASK_ID = "webhook-delivery";

/** Claims from every process take turns on this lock: the rate-limit windows are read and written under it. */
const DELIVERY_QUEUE_LOCK = "echo-delivery-queue";

/** How many due deliveries a claim reads beyond the ones it wants, for the paused and rate-limited it sets aside. */
const CLAIM_SCAN_FACTOR = 2;

/**
 * A delivery whose attempts exceed its allowance by this many was cut short that often (worker
 * killed mid-send, an attempt that could not be recorded): it is failed, not sent again forever.
 */
export const ABANDON_AFTER_EXTRA_ATTEMPTS = 3;

export const RATE_LIMIT_WINDOW_SECONDS = 60;

/** The rate-limit bucket of an endpoint, shared with attemptWebhookDelivery's consumeRateLimit. */
export const endpointRateLimitKey = (endpointId: string) => `endpoint-deliveries:${endpointId}`;

type AppColumns = { [K in keyof AppWebhookColumns as `app_${K & string}`]: AppWebhookColumns[K] | null };
type EndpointColumns = {
  [K in keyof EndpointWebhookColumns as `endpoint_${K & string}`]: EndpointWebhookColumns[K] | null;
} & { endpoint_customHeaders: unknown };

/** A claimed delivery with its target's settings, as the claim statement returns it. */
export type ClaimedDelivery = ClaimedAttempt &
  AppColumns &
  EndpointColumns & {
    endpointId: string | null;
    lockedUntil: Date;
  };

type ClaimRow = Partial<ClaimedDelivery> & { nextDueAt: Date | null; scanned: number };

export type ClaimOptions = {
  workerId: string;
  /** At most this many deliveries. */
  wanted: number;
  /** At most this many in flight per target (an OAuth app or an endpoint) in this worker. */
  perTarget: number;
  /** This worker's deliveries in flight, per target. */
  inFlightByTarget: ReadonlyMap<string, number>;
};

export type ClaimResult = {
  claimed: ClaimedDelivery[];
  /** When the earliest open delivery that is not due yet falls due (null: none is waiting). */
  nextDueAt: Date | null;
  /**
   * The claim read as many due deliveries as it may (it took what it wanted, or set the rest
   * aside for paused endpoints and rate limits): more may be due behind them, so claim again.
   */
  more: boolean;
};

/**
 * One statement (after the queue's lock, in the same round trip and transaction):
 * - reads the front of the open-delivery index: due PENDING/RETRYING deliveries, and SENDING
 *   ones whose lease ran out (their worker died), skipping targets this worker has at their limit;
 * - holds back a paused endpoint's deliveries (nextAttemptAt NULL: resuming releases them);
 * - moves those over their endpoint's per-minute limit to the next windows (never dropped);
 * - fails as abandoned those cut short too often (ABANDON_AFTER_EXTRA_ATTEMPTS);
 * - claims the rest (SENDING, attempt counted, lease of the target's timeout + 5 s, this worker
 *   as holder), at most `perTarget` per target with this worker's in-flight ones, and counts
 *   them in the rate-limit windows;
 * - returns them with their target's settings, and when the next waiting delivery is due.
 * The claim changes no indexed column, so it is a HOT update.
 */
export async function claimDueDeliveries(db: Database, options: ClaimOptions): Promise<ClaimResult> {
  const { wanted } = options;
  if (wanted <= 0) return { claimed: [], nextDueAt: null, more: false };
  const rows = await sqlTransaction(db, async (client) => {
    await client.query(CLAIM_LOCK_SQL);
    return (await sql<ClaimRow>(client, CLAIM_SQL, claimValues(options), { name: "echo-claim-deliveries" })).rows;
  });
  const claimed = rows.filter((row): row is ClaimRow & ClaimedDelivery => typeof row.id === "string");
  return {
    nextDueAt: rows[0]?.nextDueAt ?? null,
    claimed,
    more: claimed.length >= wanted || (rows[0]?.scanned ?? 0) >= wanted * CLAIM_SCAN_FACTOR,
  };
}

/**
 * Taken first, in the claim's transaction: the claim statement's snapshot is then taken after
 * it, so it sees every claim (and rate-limit count) committed before.
 */
export const CLAIM_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('${DELIVERY_QUEUE_LOCK}'))`;

/** The claim statement's parameters, in order ($1…$7). */
export function claimValues({ workerId, wanted, perTarget, inFlightByTarget }: ClaimOptions): unknown[] {
  const busy = [...inFlightByTarget.entries()].filter(([, n]) => n > 0);
  return [
    busy.map(([target]) => target),
    busy.map(([, n]) => n),
    busy.filter(([, n]) => n >= perTarget).map(([target]) => target),
    wanted * CLAIM_SCAN_FACTOR,
    perTarget,
    wanted,
    workerId,
  ];
}

/**
 * The claim (see claimDueDeliveries), one prepared statement: $1/$2 this worker's deliveries in
 * flight per target, $3 the targets at their limit, $4 how many due deliveries to read, $5 the
 * limit per target, $6 how many to claim, $7 the worker.
 *
 * Only `candidates` and `nextDueAt` read the open-deliveries index. The statements that lock or
 * update picked rows test open statuses, not `completedAt IS NULL` (equivalent: only SUCCESS and
 * FAILED have a completedAt), so that the partial index cannot serve them: its statistics say
 * "nearly empty" once finished deliveries dominate, and the planner then nested-looped the open
 * rows against the picked ones (200 × 700 comparisons, 0.2–0.7 s a claim with 100,000 finished
 * deliveries in the table) instead of fetching the picked rows by primary key.
 */
export const CLAIM_SQL = `
    WITH local(target, n) AS (
       SELECT * FROM unnest($1::text[], $2::int[])
     ), candidates AS MATERIALIZED (
       SELECT d.id, d."endpointId", COALESCE(d."oauthClientId", d."endpointId") AS target, d."nextAttemptAt" AS due,
              d.status = 'SENDING' AND d."attemptCount" >= d."maxAttempts" + ${ABANDON_AFTER_EXTRA_ATTEMPTS} AS abandon
       FROM "WebhookDelivery" d
       WHERE d."completedAt" IS NULL AND d."nextAttemptAt" <= now()
         AND (d.status IN ('PENDING', 'RETRYING') OR (d.status = 'SENDING' AND d."lockedUntil" <= now()))
         AND COALESCE(d."oauthClientId", d."endpointId") <> ALL ($3::text[])
       ORDER BY d."nextAttemptAt"
       LIMIT $4
     ), sorted AS (
       SELECT c.*,
              e."pausedAt" IS NOT NULL AND e.enabled AND e."disabledAt" IS NULL AS held,
              CASE WHEN e.enabled AND e."disabledAt" IS NULL AND e."rateLimitPerMinute" > 0
                   THEN e."rateLimitPerMinute" END AS rate_limit,
              row_number() OVER (PARTITION BY c.target ORDER BY c.due, c.id) AS position
       FROM candidates c LEFT JOIN "WebhookEndpoint" e ON e.id = c."endpointId"
       WHERE NOT c.abandon
     ), windows AS (
       SELECT s.target, s.rate_limit,
              CASE WHEN b."windowStart" >= now() - make_interval(secs => ${RATE_LIMIT_WINDOW_SECONDS})
                   THEN b.count ELSE 0 END AS used,
              CASE WHEN b."windowStart" >= now() - make_interval(secs => ${RATE_LIMIT_WINDOW_SECONDS})
                   THEN b."windowStart" ELSE now() END AS window_start
       FROM (SELECT DISTINCT target, rate_limit FROM sorted WHERE rate_limit IS NOT NULL AND NOT held) s
       LEFT JOIN "RateLimitBucket" b ON b.key = 'endpoint-deliveries:' || s.target
     ), judged AS (
       SELECT s.id, s.due, s.held, s.position, w.rate_limit, w.window_start,
              GREATEST(0, w.rate_limit - w.used) AS allowance,
              w.target IS NOT NULL AND s.position > GREATEST(0, w.rate_limit - w.used) AS over_rate,
              s.position + COALESCE(l.n, 0) <= $5 AS has_slot
       FROM sorted s LEFT JOIN windows w ON w.target = s.target LEFT JOIN local l ON l.target = s.target
     ), picked AS (
       SELECT id FROM judged WHERE NOT held AND NOT over_rate AND has_slot
       ORDER BY due, id LIMIT $6
     ), locked AS (
       SELECT d.id, d.status::text AS previous_status, d."lockedUntil" AS previous_locked_until
       FROM "WebhookDelivery" d JOIN picked p ON p.id = d.id
       WHERE (d.status IN ('PENDING', 'RETRYING') OR (d.status = 'SENDING' AND d."lockedUntil" <= now()))
       ORDER BY d.id
       FOR UPDATE OF d SKIP LOCKED
     ), claimed AS (
       UPDATE "WebhookDelivery" d
       SET status = 'SENDING', "attemptCount" = d."attemptCount" + 1, "lockedBy" = $7,
           "lockedUntil" = now() + make_interval(secs => (COALESCE(
             (SELECT a."webhookTimeoutMs" FROM "OAuthClient" a WHERE a.id = d."oauthClientId"),
             (SELECT e."timeoutMs" FROM "WebhookEndpoint" e WHERE e.id = d."endpointId"),
             30000) + 5000) / 1000.0),
           "updatedAt" = now()
       FROM locked l
       WHERE d.id = l.id
       RETURNING d.id, d."eventId", d."oauthClientId", d."endpointId", d."eventType", d.url, d.body,
                 d."attemptCount", d."maxAttempts", d."lockedUntil",
                 l.previous_status AS "previousStatus", l.previous_locked_until AS "previousLockedUntil"
     ), held_back AS (
       UPDATE "WebhookDelivery" d SET "nextAttemptAt" = NULL, "updatedAt" = now()
       FROM judged j
       WHERE j.held AND d.id = j.id AND d.status IN ('PENDING', 'RETRYING')
       RETURNING d.id
     ), deferred AS (
       UPDATE "WebhookDelivery" d
       SET "nextAttemptAt" = j.window_start + make_interval(secs =>
             ${RATE_LIMIT_WINDOW_SECONDS} * (1 + (j.position - j.allowance - 1) / j.rate_limit) + random() * 2),
           "updatedAt" = now()
       FROM judged j
       WHERE j.over_rate AND NOT j.held AND d.id = j.id AND d.status IN ('PENDING', 'RETRYING')
       RETURNING d.id
     ), abandoned AS (
       UPDATE "WebhookDelivery" d
       SET status = 'FAILED', "completedAt" = now(), "nextAttemptAt" = NULL, "lockedUntil" = NULL, "lockedBy" = NULL,
           "lastError" = 'Abandoned by the job engine: ' || d."attemptCount" || ' attempts were cut short (the worker stopped or could not record them).',
           "updatedAt" = now()
       FROM candidates c
       WHERE c.abandon AND d.id = c.id AND d.status = 'SENDING' AND d."lockedUntil" <= now()
       RETURNING d.id, d."eventId", d."endpointId", d."eventType", d."attemptCount", d."lastStatusCode", d."lastError"
     ), exhausted AS (
       -- An abandoned delivery failed for good: its endpoint's owner hears of it (delivery.exhausted) in
       -- this transaction, unless it was itself an operational event; the outbox sweep hands it over.
       -- Nothing to do when none was abandoned (almost always).
       INSERT INTO "WebhookEvent" (id, type, "userId", source, payload, "createdAt")
       SELECT gen_random_uuid()::text, 'delivery.exhausted', e."ownerId", 'endpoint:' || e.id,
              jsonb_build_object(
                'event', 'delivery.exhausted', 'user_id', e."ownerId",
                'endpoint', jsonb_build_object('id', e.id, 'name', e.name, 'url', e.url),
                'delivery', jsonb_build_object('id', a.id, 'event_id', 'evt_' || a."eventId", 'event_type', a."eventType",
                  'attempts', a."attemptCount", 'last_status_code', a."lastStatusCode", 'last_error', a."lastError"),
                'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
              now()
       FROM abandoned a JOIN "WebhookEndpoint" e ON e.id = a."endpointId"
       WHERE a."eventType" NOT IN (${OPERATIONAL_TYPES_SQL})
       RETURNING 1
     ), counted AS (
       INSERT INTO "RateLimitBucket" (key, count, "windowStart")
       SELECT 'endpoint-deliveries:' || c."endpointId", count(*), now()
       FROM claimed c JOIN windows w ON w.target = c."endpointId"
       GROUP BY c."endpointId"
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN "RateLimitBucket"."windowStart" < now() - make_interval(secs => ${RATE_LIMIT_WINDOW_SECONDS})
                      THEN EXCLUDED.count ELSE "RateLimitBucket".count + EXCLUDED.count END,
         "windowStart" = CASE WHEN "RateLimitBucket"."windowStart" < now() - make_interval(secs => ${RATE_LIMIT_WINDOW_SECONDS})
                      THEN now() ELSE "RateLimitBucket"."windowStart" END
       RETURNING 1
     )
     SELECT (SELECT min(n."nextAttemptAt") FROM "WebhookDelivery" n
             WHERE n."completedAt" IS NULL AND n."nextAttemptAt" > now()) AS "nextDueAt",
            (SELECT count(*) FROM candidates)::int AS scanned,
            c.*,
            a."webhookUrl" AS "app_webhookUrl", a."webhookSecret" AS "app_webhookSecret",
            a."previousWebhookSecret" AS "app_previousWebhookSecret",
            a."previousSecretExpiresAt" AS "app_previousSecretExpiresAt", a."webhookTimeoutMs" AS "app_webhookTimeoutMs",
            a."webhookRetryBaseDelayMs" AS "app_webhookRetryBaseDelayMs", a."webhookDisabledAt" AS "app_webhookDisabledAt",
            a."webhookDisabledReason" AS "app_webhookDisabledReason", a."webhookFailingSince" AS "app_webhookFailingSince",
            a."deletedAt" AS "app_deletedAt",
            e.url AS endpoint_url, e.secret AS endpoint_secret, e."previousSecret" AS "endpoint_previousSecret",
            e."previousSecretExpiresAt" AS "endpoint_previousSecretExpiresAt", e.enabled AS endpoint_enabled,
            e."disabledAt" AS "endpoint_disabledAt", e."disabledReason" AS "endpoint_disabledReason",
            e."failingSince" AS "endpoint_failingSince", e."timeoutMs" AS "endpoint_timeoutMs",
            e."retryBaseDelayMs" AS "endpoint_retryBaseDelayMs", e."customHeaders" AS "endpoint_customHeaders"
     FROM (SELECT 1) AS one
     LEFT JOIN claimed c ON true
     LEFT JOIN "OAuthClient" a ON a.id = c."oauthClientId"
     LEFT JOIN "WebhookEndpoint" e ON e.id = c."endpointId"`;

const SECRET_CACHE_MS = 60_000;
const SECRET_CACHE_MAX = 10_000;
/** Keyed by ciphertext: a rotated secret (or new headers) is a new key, so the cache never serves an old one. */
const openedCache = new Map<string, { value: unknown; expiresAt: number }>();

function cached<T>(key: string, open: () => T): T {
  const now = Date.now();
  const hit = openedCache.get(key);
  if (hit && hit.expiresAt > now) return hit.value as T;
  const value = open();
  if (openedCache.size >= SECRET_CACHE_MAX) openedCache.clear();
  openedCache.set(key, { value, expiresAt: now + SECRET_CACHE_MS });
  return value;
}

const decryptCached = (ciphertext: string) => cached(`secret:${ciphertext}`, () => decryptAtRest(ciphertext));

function customHeadersCached(stored: unknown): Record<string, string> {
  const key = `headers:${typeof stored === "string" ? stored : JSON.stringify(stored)}`;
  return cached(key, () => parseStoredCustomHeaders(openCustomHeaders(stored as never)));
}

/** The target an attempt of this claimed delivery goes to, or null when it no longer exists. Throws when a secret cannot be opened. */
export function claimedTarget(row: ClaimedDelivery, now: Date): AttemptTarget | null {
  if (row.oauthClientId && row.app_webhookTimeoutMs !== null) {
    return oauthAppTarget(
      {
        webhookUrl: row.app_webhookUrl,
        webhookSecret: row.app_webhookSecret,
        previousWebhookSecret: row.app_previousWebhookSecret,
        previousSecretExpiresAt: row.app_previousSecretExpiresAt,
        webhookTimeoutMs: row.app_webhookTimeoutMs,
        webhookRetryBaseDelayMs: row.app_webhookRetryBaseDelayMs,
        webhookDisabledAt: row.app_webhookDisabledAt,
        webhookDisabledReason: row.app_webhookDisabledReason,
        webhookFailingSince: row.app_webhookFailingSince,
        deletedAt: row.app_deletedAt,
      },
      { now, decrypt: decryptCached },
    );
  }
  if (row.endpointId && row.endpoint_url !== null && row.endpoint_secret !== null) {
    return endpointTarget(
      {
        url: row.endpoint_url,
        secret: row.endpoint_secret,
        previousSecret: row.endpoint_previousSecret,
        previousSecretExpiresAt: row.endpoint_previousSecretExpiresAt,
        enabled: row.endpoint_enabled ?? false,
        disabledAt: row.endpoint_disabledAt,
        disabledReason: row.endpoint_disabledReason,
        failingSince: row.endpoint_failingSince,
        timeoutMs: row.endpoint_timeoutMs ?? 30_000,
        retryBaseDelayMs: row.endpoint_retryBaseDelayMs,
      },
      { now, decrypt: decryptCached, customHeaders: customHeadersCached(row.endpoint_customHeaders) },
    );
  }
  return null;
}

/**
 * A target's health change, for the app or endpoint it belongs to; an endpoint that this attempt
 * disables carries its endpoint.disabled event (written only if the endpoint was not disabled yet).
 */
type TargetHealthChange = HealthChange & { table: "app" | "endpoint"; id: string; disabledEvent?: OutboxEvent | null };

export type AttemptRecord = AttemptRow & {
  status: DeliveryStatus;
  completedAt: Date | null;
  health: TargetHealthChange | null;
  /** Operational events this attempt raises besides its health change (delivery.exhausted), written with it. */
  events?: OutboxEvent[];
};

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
      ON CONFLICT ("deliveryId", "attemptNumber") DO NOTHING
    )
    UPDATE "WebhookDelivery" AS d
    SET status = input.state::"WebhookDeliveryStatus", "lastStatusCode" = input.response_status::int,
        "lastError" = CASE WHEN input.state = 'SUCCESS' THEN NULL ELSE input.error END,
        "nextAttemptAt" = to_timestamp(input.next_ms::float8 / 1000) AT TIME ZONE 'UTC', "lockedUntil" = NULL,
        "lockedBy" = NULL,
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

const HEALTH_COLUMNS = {
  app: {
    table: `"OAuthClient"`,
    failingSince: `"webhookFailingSince"`,
    disabledAt: `"webhookDisabledAt"`,
    disabledReason: `"webhookDisabledReason"`,
  },
  endpoint: {
    table: `"WebhookEndpoint"`,
    failingSince: `"failingSince"`,
    disabledAt: `"disabledAt"`,
    disabledReason: `"disabledReason"`,
  },
} as const;

/** The targets' health rows (failing since, disabled), as Prisma's updateMany would write them (with `updatedAt`). */
async function recordHealth(client: pg.PoolClient, records: AttemptRecord[]): Promise<void> {
  // Per target, the last change in the batch is the target's state now, except that a change that
  // disables it stands: a later attempt of the same batch, judged before it, must not undo it.
  const latest = new Map<string, TargetHealthChange>();
  for (const record of records) {
    if (!record.health) continue;
    const key = `${record.health.table}:${record.health.id}`;
    const previous = latest.get(key);
    const disables = (change: TargetHealthChange | undefined) => change?.kind === "failing" && change.disable !== null;
    if (disables(previous) && !disables(record.health)) continue;
    latest.set(key, record.health);
  }
  for (const change of latest.values()) {
    const columns = HEALTH_COLUMNS[change.table];
    if (change.kind === "recovered") {
      await sql(
        client,
        `UPDATE ${columns.table} SET ${columns.failingSince} = NULL, "updatedAt" = now()
         WHERE id = $1 AND ${columns.failingSince} IS NOT NULL`,
        [change.id],
      );
    } else if (change.table === "endpoint" && change.disable) {
      await sql(
        client,
        DISABLE_ENDPOINT_SQL,
        disableEndpointValues(
          { endpointId: change.id, failingSince: change.failingSince, ...change.disable },
          change.disabledEvent ?? null,
        ),
      );
    } else {
      await sql(
        client,
        `UPDATE ${columns.table}
         SET ${columns.failingSince} = to_timestamp($2::float8 / 1000) AT TIME ZONE 'UTC',
             ${columns.disabledAt} = CASE WHEN $3::float8 IS NULL THEN ${columns.disabledAt}
                                        ELSE to_timestamp($3::float8 / 1000) AT TIME ZONE 'UTC' END,
             ${columns.disabledReason} = CASE WHEN $3::float8 IS NULL THEN ${columns.disabledReason} ELSE $4 END,
             "updatedAt" = now()
         WHERE id = $1`,
        [
          change.id,
          change.failingSince.getTime(),
          change.disable ? change.disable.at.getTime() : null,
          change.disable?.reason ?? null,
        ],
      );
    }
  }
}

type Recorded = { ok: true } | { ok: false; error: unknown };

/**
 * Writes the attempts and the deliveries' new states, one statement for the batch. Only a batch
 * with a transition (a target's health changes, a delivery fails for good) is a transaction, with
 * the transition's writes and operational events: the common batch costs what it always did.
 */
export async function recordAttempts(db: Database, records: AttemptRecord[]): Promise<Recorded[]> {
  // The requests are already sent: the pool's connect waits for a free connection however long the database
  // is busy, rather than lose their outcomes (see recordOutcome in deliver-webhook.server.ts).
  const write = (batch: AttemptRecord[]) =>
    batch.some((record) => record.health || record.events?.length)
      ? sqlTransaction(db, async (client) => {
          await recordStatement(client, batch);
          await recordHealth(client, batch);
          await recordEvents(
            client,
            batch.flatMap((record) => record.events ?? []),
          );
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

/** How often, and after how long, an attempt's record is tried again before its lease is left to expire. */
const RECORD_RETRY_DELAYS_MS = [250, 1_000, 2_500];

/**
 * Makes one attempt of a claimed delivery and records it. The POST and the verdict are
 * sendClaimedAttempt's, as on every path. An attempt that cannot even be prepared (a secret no
 * key opens) is recorded as a failed attempt on the delivery's own schedule, not retried in a
 * tight loop. A record that cannot be written after a few tries is left to the lease: the
 * delivery is claimed again when it expires (sent again: at least once, never lost).
 */
export async function attemptClaimedDelivery(
  row: ClaimedDelivery,
  {
    db,
    dispatcher,
    records,
    onSent,
  }: {
    db: Database;
    dispatcher: Dispatcher;
    records: GroupCommit<AttemptRecord, Recorded>;
    /** The request is over (answered, failed or never sent); only its record is left to write. */
    onSent?: () => void;
  },
): Promise<void> {
  const interrupted = interruptedAttempt(row, new Date());
  if (interrupted) await db.deliveryAttempt.createMany({ data: [interrupted], skipDuplicates: true });

  let record: AttemptRow;
  let verdict: ReturnType<typeof attemptVerdict>;
  let blockedReason: string | null = null;
  try {
    const target = claimedTarget(row, new Date());
    ({ record, verdict, blockedReason } = await sendClaimedAttempt(row, target, dispatcher));
  } catch (error) {
    ({ record, verdict } = unpreparedAttempt(row, error));
  }
  onSent?.();

  // The rare transitions only: an endpoint disabled, a delivery failed for good.
  const raises = operationalOutcome({ delivery: row, endpointId: row.endpointId, blockedReason, verdict });
  const subject = raises.exhausted || raises.disabled ? await endpointSubject(db, row.endpointId!) : null;
  const health: TargetHealthChange | null =
    verdict.health && (row.oauthClientId || row.endpointId)
      ? {
          ...verdict.health,
          table: row.oauthClientId ? "app" : "endpoint",
          id: (row.oauthClientId ?? row.endpointId)!,
          disabledEvent:
            subject && raises.disabled && verdict.health.kind === "failing" && verdict.health.disable
              ? endpointDisabledEvent(subject, {
                  reason: verdict.health.disable.reason,
                  by: "echo",
                  at: verdict.health.disable.at,
                })
              : null,
        }
      : null;
  const events =
    subject && raises.exhausted
      ? [
          deliveryExhaustedEvent(
            subject,
            {
              id: row.id,
              eventId: row.eventId,
              eventType: row.eventType,
              attempts: row.attemptCount,
              lastStatusCode: record.responseStatus,
              lastError: record.error,
            },
            record.startedAt,
          ),
        ]
      : undefined;
  const entry: AttemptRecord = {
    ...record,
    status: verdict.status,
    completedAt: verdict.completedAt,
    health,
    events,
  };
  let recorded = await records.add(entry);
  for (const delayMs of RECORD_RETRY_DELAYS_MS) {
    if (recorded.ok) break;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    recorded = await records.add(entry);
  }
  if (!recorded.ok) {
    logger.error(
      { err: recorded.error, deliveryId: row.id, attempt: row.attemptCount },
      "A delivery attempt could not be recorded; the delivery is sent again when its lease ends",
    );
    return;
  }
  logger.info(
    attemptSummary({ delivery: row, endpointId: row.endpointId, record, verdict }),
    "Webhook delivery attempt",
  );
  const raised = [...(events ?? []), ...(health?.disabledEvent ? [health.disabledEvent] : [])];
  if (raised.length > 0)
    await dispatchEvents(
      raised.map((event) => event.id),
      { deliveryId: row.id },
    );
  if (verdict.disableReason)
    logger.warn(
      {
        oauthClientId: row.oauthClientId ?? undefined,
        endpointId: row.endpointId ?? undefined,
        reason: verdict.disableReason,
      },
      "Webhook target disabled",
    );
}

/** What an operational event says about the endpoint (read only when one is raised); null when it is gone. */
async function endpointSubject(db: Database, endpointId: string): Promise<EndpointSubject | null> {
  const { rows } = await sqlOn<EndpointSubject>(
    db,
    `SELECT id, name, url, "ownerId" FROM "WebhookEndpoint" WHERE id = $1`,
    [endpointId],
  );
  return rows[0] ?? null;
}

/** The record of an attempt that failed before its request could be built: an error on Echo's side, retried on schedule. */
function unpreparedAttempt(row: ClaimedDelivery, error: unknown) {
  const message = `Echo could not prepare this attempt: ${error instanceof Error ? error.message : String(error)}`;
  const startedAt = new Date();
  const verdict = {
    ...attemptVerdict({
      delivery: row,
      target: { disabledReason: null, failingSince: null, retryBaseDelayMs: null },
      blockedReason: null,
      result: { kind: "connection_error", error: message, durationMs: 0 },
      startedAt,
      now: startedAt,
      disableAfterHours: Number.POSITIVE_INFINITY,
    }),
    // The receiver did nothing wrong: its health is not touched.
    health: null,
    disableReason: null,
  };
  const record: AttemptRow = {
    deliveryId: row.id,
    attemptNumber: row.attemptCount,
    startedAt,
    durationMs: 0,
    requestUrl: row.url,
    requestHeaders: {},
    responseStatus: null,
    responseHeaders: null,
    responseBody: null,
    error: message,
    nextAttemptAt: verdict.nextAttemptAt,
  };
  logger.error({ err: error, deliveryId: row.id }, "A delivery attempt could not be prepared");
  return { record, verdict };
}

/** A record writer per database client: every attempt in flight in this process shares its statements. */
const recordersByDb = new WeakMap<Database, GroupCommit<AttemptRecord, Recorded>>();

export function attemptRecorder(db: Database): GroupCommit<AttemptRecord, Recorded> {
  let recorder = recordersByDb.get(db);
  if (!recorder) {
    recorder = new GroupCommit((batch) => recordAttempts(db, batch), { maxBatch: 500 });
    recordersByDb.set(db, recorder);
  }
  return recorder;
}

/** A stopping worker hands back the leases it still holds, so their deliveries go out again at once. */
export async function releaseDeliveryLeases(db: Database, workerId: string): Promise<number> {
  const { rowCount } = await sqlOn(
    db,
    `UPDATE "WebhookDelivery" SET "lockedUntil" = now(), "updatedAt" = now()
     WHERE "lockedBy" = $1 AND status = 'SENDING' AND "completedAt" IS NULL`,
    [workerId],
  );
  return rowCount;
}

/**
 * The embedded engine's "trigger a delivery run": the deliveries (already open) fall due after
 * `delayMs` (a paused endpoint's stay held: the claim sets them aside again), and the queue is woken.
 */
export async function scheduleDeliveries(db: Database, deliveries: { id: string; delayMs?: number }[]): Promise<void> {
  if (deliveries.length === 0) return;
  await sqlOn(
    db,
    `WITH scheduled AS (
       UPDATE "WebhookDelivery" d
       SET "nextAttemptAt" = now() + make_interval(secs => GREATEST(0, t.delay_ms) / 1000.0), "updatedAt" = now()
       FROM unnest($1::text[], $2::float8[]) AS t(id, delay_ms)
       WHERE d.id = t.id AND d."completedAt" IS NULL AND d.status IN ('PENDING', 'RETRYING')
       RETURNING 1
     )
     SELECT pg_notify($3, $4) FROM scheduled HAVING count(*) > 0`,
    [
      deliveries.map((delivery) => delivery.id),
      deliveries.map((delivery) => delivery.delayMs ?? 0),
      TASK_RUN_CHANNEL,
      DELIVERY_QUEUE_TASK_ID,
    ],
  );
}
