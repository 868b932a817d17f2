import type { Dispatcher } from "undici";
import { prisma, type Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import { env } from "~/env.server";
import { CustomHeadersSchema } from "~/lib/webhooks/headers";
import { logger } from "~/logger.server";
import { decryptAtRest } from "~/services/encryption.server";
import { outboundDispatcher } from "~/services/outbound.server";
import { consumeRateLimit } from "~/services/rate-limit.server";
import {
  attemptOutcome,
  attemptRecord,
  attemptSummary,
  attemptVerdict,
  deliveryRequest,
  endpointTarget,
  interruptedAttempt,
  oauthAppTarget,
  type AttemptTarget,
  operationalOutcome,
  type ClaimedAttempt as ClaimedDelivery,
  type DeliveryAttemptResult,
  type HealthChange,
} from "./delivery-decisions.server";
import {
  deliveryExhaustedEvent,
  DISABLE_ENDPOINT_SQL,
  disableEndpointValues,
  endpointDisabledEvent,
  type EndpointSubject,
} from "./operational-events.server";
import { dispatchEvents, outboxInsertStatement, type OutboxEvent } from "./publish.server";
import { openCustomHeaders } from "./custom-headers.server";
import { triggerDeliveryRuns } from "./integration-fanout.server";
import { sendWebhook } from "./http-sender.server";

export type { DeliveryAttemptResult };

type Target = AttemptTarget & {
  kind: "oauth_client" | "endpoint";
  id: string;
  paused: boolean;
  rateLimitPerMinute: number | null;
  /** An endpoint's name, URL and owner, for the operational events an attempt may raise. */
  subject: EndpointSubject | null;
};

async function loadOAuthClientTarget(db: Database, oauthClientId: string): Promise<Target | null> {
  const client = await db.oAuthClient.findUnique({
    where: { id: oauthClientId },
    select: {
      id: true,
      webhookUrl: true,
      webhookSecret: true,
      previousWebhookSecret: true,
      previousSecretExpiresAt: true,
      webhookTimeoutMs: true,
      webhookRetryBaseDelayMs: true,
      webhookDisabledAt: true,
      webhookDisabledReason: true,
      webhookFailingSince: true,
      deletedAt: true,
    },
  });
  if (!client) return null;
  return {
    kind: "oauth_client",
    id: client.id,
    ...oauthAppTarget(client, { now: new Date(), decrypt: decryptAtRest }),
    paused: false,
    rateLimitPerMinute: null,
    subject: null,
  };
}

async function loadEndpointTarget(db: Database, endpointId: string): Promise<Target | null> {
  const endpoint = await db.webhookEndpoint.findUnique({
    where: { id: endpointId },
    select: {
      id: true,
      name: true,
      ownerId: true,
      url: true,
      secret: true,
      previousSecret: true,
      previousSecretExpiresAt: true,
      enabled: true,
      pausedAt: true,
      disabledAt: true,
      disabledReason: true,
      failingSince: true,
      customHeaders: true,
      timeoutMs: true,
      retryBaseDelayMs: true,
      rateLimitPerMinute: true,
    },
  });
  if (!endpoint) return null;
  return {
    kind: "endpoint",
    id: endpoint.id,
    ...endpointTarget(endpoint, {
      now: new Date(),
      decrypt: decryptAtRest,
      customHeaders: parseStoredCustomHeaders(openCustomHeaders(endpoint.customHeaders)),
    }),
    paused: endpoint.pausedAt !== null,
    rateLimitPerMinute: endpoint.rateLimitPerMinute,
    subject: { id: endpoint.id, name: endpoint.name, url: endpoint.url, ownerId: endpoint.ownerId },
  };
}

/** Stored headers were validated on the way in; anything odd found now is dropped, never sent. */
export function parseStoredCustomHeaders(stored: Record<string, string>): Record<string, string> {
  const parsed = CustomHeadersSchema.safeParse(stored);
  if (!parsed.success) {
    logger.warn(
      { issues: parsed.error.issues.length },
      "An endpoint's stored custom headers are invalid; none are sent",
    );
    return {};
  }
  return parsed.data;
}

function loadTarget(
  db: Database,
  { oauthClientId, endpointId }: { oauthClientId: string | null; endpointId: string | null },
): Promise<Target | null> {
  if (oauthClientId) return loadOAuthClientTarget(db, oauthClientId);
  if (endpointId) return loadEndpointTarget(db, endpointId);
  return Promise.resolve(null);
}

/**
 * Makes one attempt of one delivery and records it, whatever happens: claims the row (so
 * two runs never send the same delivery at once), signs the stored body, POSTs it, stores
 * the attempt, and moves the delivery to SUCCESS, RETRYING (with the next time) or FAILED.
 */
export async function attemptWebhookDelivery(
  deliveryId: string,
  { db = prisma, dispatcher = outboundDispatcher() }: { db?: Database; dispatcher?: Dispatcher } = {},
): Promise<DeliveryAttemptResult> {
  const current = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    select: { status: true, oauthClientId: true, endpointId: true, lockedUntil: true },
  });
  if (!current) return { outcome: "failed", reason: `Delivery ${deliveryId} does not exist` };
  if (current.status === "SUCCESS" || current.status === "FAILED") {
    return { outcome: "skipped", reason: `already ${current.status}` };
  }
  if (!current.oauthClientId && !current.endpointId) return { outcome: "failed", reason: "Delivery has no target" };
  const target = await loadTarget(db, current);

  if (target?.paused && !target.disabledReason) return { outcome: "paused" };
  if (target?.rateLimitPerMinute && !target.disabledReason) {
    const limit = await consumeRateLimit(db, {
      key: `endpoint-deliveries:${target.id}`,
      limit: target.rateLimitPerMinute,
      windowSeconds: 60,
    });
    if (!limit.allowed) {
      // Over the limit, the delivery waits in the queue: a fresh run for the next window, never a lost one.
      const until = new Date(Date.now() + limit.retryAfterSeconds * 1000 + Math.floor(Math.random() * 2_000));
      await triggerDeliveryRuns(
        [{ id: deliveryId, oauthClientId: null, endpointId: target.id, delayMs: until.getTime() - Date.now() }],
        (id) => `delivery:${id}:after:${Math.floor(until.getTime() / 1000)}`,
      );
      return { outcome: "deferred", until };
    }
  }

  const leaseSeconds = ((target?.timeoutMs ?? 30_000) + 5_000) / 1000;
  const [claimed] = await db.$queryRaw<ClaimedDelivery[]>`
    WITH previous AS (SELECT id, status, "lockedUntil" FROM "WebhookDelivery" WHERE id = ${deliveryId} FOR UPDATE)
    UPDATE "WebhookDelivery" AS d
    SET status = 'SENDING', "attemptCount" = d."attemptCount" + 1,
        "lockedUntil" = now() + make_interval(secs => ${leaseSeconds}), "updatedAt" = now(),
        -- A held delivery (a test send's) becomes due, so the delivery queue takes it over if this process dies.
        "nextAttemptAt" = COALESCE(d."nextAttemptAt", now())
    FROM previous
    WHERE d.id = previous.id
      AND (previous.status IN ('PENDING', 'RETRYING')
           OR (previous.status = 'SENDING' AND (previous."lockedUntil" IS NULL OR previous."lockedUntil" <= now())))
    RETURNING d.id, d."eventId", d."oauthClientId", d."eventType", d.url, d.body, d."attemptCount", d."maxAttempts",
              previous.status::text AS "previousStatus", previous."lockedUntil" AS "previousLockedUntil"`;
  if (!claimed) {
    // Another run is sending it right now; look again when its lease ends.
    const lockedUntil = current.lockedUntil ?? new Date(Date.now() + leaseSeconds * 1000);
    return { outcome: "retry", retryAt: new Date(Math.max(lockedUntil.getTime(), Date.now()) + 1_000) };
  }

  const interrupted = interruptedAttempt(claimed, new Date());
  if (interrupted) await db.deliveryAttempt.createMany({ data: [interrupted], skipDuplicates: true });
  const { record, verdict, blockedReason } = await sendClaimedAttempt(claimed, target, dispatcher);
  const { status, statusCode, error, nextAttemptAt, health } = verdict;
  // The same decisions as the embedded engine's record (delivery-queue.server.ts), in this transaction.
  const raises = operationalOutcome({ delivery: claimed, endpointId: current.endpointId, blockedReason, verdict });
  const subject = target?.subject ?? null;
  const disabledEvent =
    subject && raises.disabled && health?.kind === "failing" && health.disable
      ? endpointDisabledEvent(subject, { reason: health.disable.reason, by: "echo", at: health.disable.at })
      : null;
  const exhaustedEvents: OutboxEvent[] =
    subject && raises.exhausted
      ? [
          deliveryExhaustedEvent(
            subject,
            {
              id: claimed.id,
              eventId: claimed.eventId,
              eventType: claimed.eventType,
              attempts: claimed.attemptCount,
              lastStatusCode: record.responseStatus,
              lastError: record.error,
            },
            record.startedAt,
          ),
        ]
      : [];

  await recordOutcome(db, (tx) => [
    // Prisma stores a Json column as NULL only when it is left out.
    tx.deliveryAttempt.create({ data: { ...record, responseHeaders: record.responseHeaders ?? undefined } }),
    tx.webhookDelivery.update({
      where: { id: claimed.id },
      data: {
        status,
        lastStatusCode: statusCode,
        lastError: status === "SUCCESS" ? null : error,
        nextAttemptAt,
        lockedUntil: null,
        completedAt: verdict.completedAt,
      },
    }),
    ...healthWrites(tx, target, health, disabledEvent),
    ...(exhaustedEvents.length > 0
      ? [
          (() => {
            const statement = outboxInsertStatement(exhaustedEvents);
            return tx.$queryRawUnsafe(statement.text, ...statement.values);
          })(),
        ]
      : []),
  ]);
  const raised = [...exhaustedEvents, ...(disabledEvent ? [disabledEvent] : [])];
  if (raised.length > 0)
    await dispatchEvents(
      raised.map((event) => event.id),
      { deliveryId: claimed.id },
    );

  logger.info(
    attemptSummary({ delivery: claimed, endpointId: current.endpointId, record, verdict }),
    "Webhook delivery attempt",
  );
  if (verdict.disableReason)
    logger.warn({ target: target?.kind, id: target?.id, reason: verdict.disableReason }, "Webhook target disabled");

  return attemptOutcome(verdict);
}

/**
 * The part of an attempt between its claim and its record, the same on both paths (the
 * embedded engine's delivery queue, delivery-queue.server.ts, claims and records differently): signs the stored body,
 * POSTs it unless the delivery is blocked, and judges the outcome.
 */
export async function sendClaimedAttempt(
  claimed: ClaimedDelivery,
  target: AttemptTarget | null,
  dispatcher: Dispatcher,
) {
  const startedAt = new Date();
  const request = deliveryRequest({ delivery: claimed, target, startedAt, allowedHosts: env.OUTBOUND_ALLOWED_HOSTS });
  const result =
    request.unsent ??
    (await sendWebhook(dispatcher, {
      url: request.url,
      headers: request.headers,
      body: claimed.body,
      timeoutMs: target?.timeoutMs ?? 30_000,
    }));
  const verdict = attemptVerdict({
    delivery: claimed,
    target,
    blockedReason: request.blockedReason,
    result,
    startedAt,
    now: new Date(),
    disableAfterHours: env.WEBHOOK_DISABLE_AFTER_HOURS,
  });
  return {
    record: attemptRecord({ delivery: claimed, startedAt, request, result, verdict }),
    verdict,
    blockedReason: request.blockedReason,
  };
}

/** The target's health as this attempt changed it: nothing, recovered, or failing (and perhaps disabled). */
function healthWrites(
  tx: Prisma.TransactionClient,
  target: Target | null,
  health: HealthChange | null,
  disabledEvent: OutboxEvent | null,
): Prisma.PrismaPromise<unknown>[] {
  if (!target || !health) return [];
  if (target.kind === "endpoint" && health.kind === "failing" && health.disable) {
    // Disabled, and endpoint.disabled recorded only if this attempt is what disabled it.
    return [
      tx.$executeRawUnsafe(
        DISABLE_ENDPOINT_SQL,
        ...disableEndpointValues(
          { endpointId: target.id, failingSince: health.failingSince, ...health.disable },
          disabledEvent,
        ),
      ),
    ];
  }
  if (health.kind === "recovered") {
    return [
      target.kind === "oauth_client"
        ? tx.oAuthClient.updateMany({
            where: { id: target.id, webhookFailingSince: { not: null } },
            data: { webhookFailingSince: null },
          })
        : tx.webhookEndpoint.updateMany({
            where: { id: target.id, failingSince: { not: null } },
            data: { failingSince: null },
          }),
    ];
  }
  const { failingSince, disable } = health;
  return [
    target.kind === "oauth_client"
      ? tx.oAuthClient.updateMany({
          where: { id: target.id },
          data: {
            webhookFailingSince: failingSince,
            ...(disable ? { webhookDisabledAt: disable.at, webhookDisabledReason: disable.reason } : {}),
          },
        })
      : tx.webhookEndpoint.updateMany({
          where: { id: target.id },
          data: { failingSince, ...(disable ? { disabledAt: disable.at, disabledReason: disable.reason } : {}) },
        }),
  ];
}

/**
 * The request is already sent, so its outcome must be recorded even while the pool is busy:
 * Prisma's default gives up starting a transaction after 2 s, which lost the outcome and sent
 * the delivery again when its lease ended (tests/integration/delivery-busy-pool.test.ts). An
 * interactive transaction, because Prisma 7.5 takes maxWait and timeout only there (ADR 012).
 */
async function recordOutcome(
  db: Database,
  writes: (tx: Prisma.TransactionClient) => Prisma.PrismaPromise<unknown>[],
): Promise<void> {
  await db.$transaction(
    async (tx) => {
      for (const write of writes(tx)) await write;
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
}

/**
 * When the engine gives up on a delivery's runs (not the delivery's own decision), record it, and
 * tell its endpoint's owner (delivery.exhausted) in the same transaction.
 */
export async function markDeliveryAbandoned(deliveryId: string, error: unknown, db: Database = prisma): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const lastError = `Abandoned by the job engine: ${message}`.slice(0, 2000);
  const raised = await db.$transaction(async (tx) => {
    const updated = await tx.webhookDelivery.updateMany({
      where: { id: deliveryId, status: { in: ["PENDING", "RETRYING", "SENDING"] } },
      data: { status: "FAILED", lastError, completedAt: new Date(), lockedUntil: null },
    });
    if (updated.count === 0) return null;
    const delivery = await tx.webhookDelivery.findUniqueOrThrow({
      where: { id: deliveryId },
      select: {
        eventId: true,
        eventType: true,
        attemptCount: true,
        lastStatusCode: true,
        endpoint: { select: { id: true, name: true, url: true, ownerId: true } },
      },
    });
    const raises = operationalOutcome({
      delivery,
      endpointId: delivery.endpoint?.id ?? null,
      blockedReason: null,
      verdict: { status: "FAILED", health: null },
    });
    if (!raises.exhausted || !delivery.endpoint) return [];
    const event = deliveryExhaustedEvent(
      delivery.endpoint,
      {
        id: deliveryId,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        attempts: delivery.attemptCount,
        lastStatusCode: delivery.lastStatusCode,
        lastError,
      },
      new Date(),
    );
    const statement = outboxInsertStatement([event]);
    await tx.$queryRawUnsafe(statement.text, ...statement.values);
    return [event.id];
  });
  if (raised === null) return;
  logger.error({ deliveryId, error: message }, "Webhook delivery abandoned after repeated engine failures");
  await dispatchEvents(raised, { deliveryId });
}
