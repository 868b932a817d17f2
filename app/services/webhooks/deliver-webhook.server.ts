import type { Dispatcher } from "undici";
import { prisma, type Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import { env } from "~/env.server";
import { CustomHeadersSchema, redactHeaders } from "~/lib/webhooks/headers";
import { checkLiteralDestination } from "~/lib/webhooks/outbound-url";
import { classifyAttempt, computeNextAttemptAt } from "~/lib/webhooks/retry-policy";
import { buildSignatureHeaders } from "~/lib/webhooks/signing";
import { logger } from "~/logger.server";
import { decryptAtRest } from "~/services/encryption.server";
import { outboundDispatcher } from "~/services/outbound.server";
import { consumeRateLimit } from "~/services/rate-limit.server";
import { triggerDeliveryRuns } from "./integration-fanout.server";
import { sendWebhook, type SendResult } from "./http-sender.server";

export const USER_AGENT = "Echo-OAuth-Webhooks/1.0";

export type DeliveryAttemptResult =
  | { outcome: "delivered"; status: number }
  | { outcome: "skipped"; reason: string }
  | { outcome: "retry"; retryAt: Date }
  | { outcome: "failed"; reason: string }
  /** The endpoint is paused: the delivery waits, untouched, and resuming sends it. */
  | { outcome: "paused" }
  /** The endpoint's per-minute limit is reached: a new run is queued for the next window. */
  | { outcome: "deferred"; until: Date };

type Target = {
  kind: "oauth_client" | "endpoint";
  id: string;
  url: string | null;
  disabledReason: string | null;
  secrets: string[];
  timeoutMs: number;
  retryBaseDelayMs: number | null;
  failingSince: Date | null;
  customHeaders: Record<string, string>;
  paused: boolean;
  rateLimitPerMinute: number | null;
};

function signingSecrets(current: string | null, previous: string | null, previousExpiresAt: Date | null): string[] {
  const secrets: string[] = [];
  if (current) secrets.push(decryptAtRest(current));
  // During a rotation's grace period the old secret signs too, so receivers can switch at leisure.
  if (previous && previousExpiresAt && previousExpiresAt > new Date()) secrets.push(decryptAtRest(previous));
  return secrets;
}

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
    url: client.webhookUrl,
    disabledReason: client.deletedAt
      ? "The OAuth app was deleted."
      : client.webhookDisabledAt
        ? `The app's webhook is disabled: ${client.webhookDisabledReason ?? "no reason recorded"}`
        : !client.webhookUrl
          ? "The app no longer has a webhook URL."
          : null,
    secrets: signingSecrets(client.webhookSecret, client.previousWebhookSecret, client.previousSecretExpiresAt),
    timeoutMs: client.webhookTimeoutMs,
    retryBaseDelayMs: client.webhookRetryBaseDelayMs,
    failingSince: client.webhookFailingSince,
    customHeaders: {},
    paused: false,
    rateLimitPerMinute: null,
  };
}

async function loadEndpointTarget(db: Database, endpointId: string): Promise<Target | null> {
  const endpoint = await db.webhookEndpoint.findUnique({
    where: { id: endpointId },
    select: {
      id: true,
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
    url: endpoint.url,
    disabledReason: endpoint.disabledAt
      ? `The endpoint is disabled: ${endpoint.disabledReason ?? "no reason recorded"}`
      : !endpoint.enabled
        ? "The endpoint was switched off by its owner."
        : null,
    secrets: signingSecrets(endpoint.secret, endpoint.previousSecret, endpoint.previousSecretExpiresAt),
    timeoutMs: endpoint.timeoutMs,
    retryBaseDelayMs: endpoint.retryBaseDelayMs,
    failingSince: endpoint.failingSince,
    customHeaders: parseStoredCustomHeaders(endpoint.customHeaders),
    paused: endpoint.pausedAt !== null,
    rateLimitPerMinute: endpoint.rateLimitPerMinute,
  };
}

/** Stored headers were validated on the way in; anything odd found now is dropped, never sent. */
function parseStoredCustomHeaders(stored: unknown): Record<string, string> {
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

type ClaimedDelivery = {
  id: string;
  eventId: string;
  oauthClientId: string | null;
  eventType: string;
  url: string;
  body: string;
  attemptCount: number;
  maxAttempts: number;
  previousStatus: string;
  previousLockedUntil: Date | null;
};

function describe(result: SendResult): string | null {
  return result.kind === "response" ? null : result.error;
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
        "lockedUntil" = now() + make_interval(secs => ${leaseSeconds}), "updatedAt" = now()
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

  const attemptNumber = claimed.attemptCount;
  if (claimed.previousStatus === "SENDING" && attemptNumber > 1) {
    // The previous attempt's worker died mid-send: record it, so the log shows every try.
    await db.deliveryAttempt.createMany({
      data: [
        {
          deliveryId: claimed.id,
          attemptNumber: attemptNumber - 1,
          startedAt: claimed.previousLockedUntil ?? new Date(),
          durationMs: 0,
          requestUrl: claimed.url,
          requestHeaders: {},
          error:
            "The worker stopped during this attempt (crash or restart); its outcome is unknown, so Echo sent it again.",
        },
      ],
      skipDuplicates: true,
    });
  }
  const startedAt = new Date();
  const timestamp = Math.floor(startedAt.getTime() / 1000);
  const url = target?.url ?? claimed.url;
  let signingError: string | null = null;
  let signatureHeaders: Record<string, string> = {};
  if (target && target.secrets.length > 0) {
    try {
      signatureHeaders = {
        ...buildSignatureHeaders({ body: claimed.body, id: claimed.id, timestamp, secrets: target.secrets }),
      };
    } catch (error) {
      // Never send unsigned what should be signed: a broken secret fails the delivery, visibly.
      signingError = `The webhook secret could not sign this delivery (${error instanceof Error ? error.message : String(error)}); rotate the secret.`;
    }
  }
  const headers: Record<string, string> = {
    ...target?.customHeaders,
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "x-webhook-delivery": claimed.id,
    "x-webhook-event": claimed.eventType,
    ...signatureHeaders,
  };

  const refusedLiteral = checkLiteralDestination(url, env.OUTBOUND_ALLOWED_HOSTS);
  const blockedReason = !target ? "The delivery's target no longer exists." : (target.disabledReason ?? signingError);
  const result: SendResult = blockedReason
    ? { kind: "connection_error", error: blockedReason, durationMs: 0 }
    : refusedLiteral
      ? { kind: "refused_address", error: refusedLiteral.message, durationMs: 0 }
      : await sendWebhook(dispatcher, { url, headers, body: claimed.body, timeoutMs: target?.timeoutMs ?? 30_000 });

  const verdict = blockedReason
    ? ({ kind: "permanent", disableEndpoint: false } as const)
    : classifyAttempt(
        result.kind === "response"
          ? { status: result.status }
          : {
              error:
                result.kind === "timeout"
                  ? "timeout"
                  : result.kind === "refused_address"
                    ? "refused_address"
                    : "connection",
            },
      );
  const retryAfter = result.kind === "response" ? result.headers["retry-after"] : undefined;
  const nextAttemptAt =
    verdict.kind === "retryable"
      ? computeNextAttemptAt({
          attemptNumber,
          maxAttempts: claimed.maxAttempts,
          baseDelayMs: target?.retryBaseDelayMs ?? undefined,
          retryAfter,
          now: new Date(),
        })
      : null;

  const status = verdict.kind === "success" ? "SUCCESS" : nextAttemptAt ? "RETRYING" : "FAILED";
  const statusCode = result.kind === "response" ? result.status : null;
  const error =
    describe(result) ??
    (verdict.kind === "success"
      ? null
      : `HTTP ${statusCode}${status === "FAILED" && verdict.kind === "permanent" ? " (not retried)" : ""}`);
  const disableReason =
    verdict.kind === "permanent" && verdict.disableEndpoint
      ? `The receiver answered 410 Gone on ${startedAt.toISOString()}.`
      : target?.failingSince &&
          status !== "SUCCESS" &&
          startedAt.getTime() - target.failingSince.getTime() > env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000
        ? `Every delivery failed for more than ${env.WEBHOOK_DISABLE_AFTER_HOURS} hours (since ${target.failingSince.toISOString()}).`
        : null;

  // The app's health row changes only when its state does: writing it on every delivery
  // would make all deliveries to one app queue on that row's lock.
  const healthWrites: Prisma.PrismaPromise<unknown>[] = [];
  if (target && !target.disabledReason) {
    if (status === "SUCCESS" && target.failingSince) {
      healthWrites.push(
        target.kind === "oauth_client"
          ? db.oAuthClient.updateMany({
              where: { id: target.id, webhookFailingSince: { not: null } },
              data: { webhookFailingSince: null },
            })
          : db.webhookEndpoint.updateMany({
              where: { id: target.id, failingSince: { not: null } },
              data: { failingSince: null },
            }),
      );
    } else if (status !== "SUCCESS" && (!target.failingSince || disableReason)) {
      const failingSince = target.failingSince ?? startedAt;
      healthWrites.push(
        target.kind === "oauth_client"
          ? db.oAuthClient.updateMany({
              where: { id: target.id },
              data: {
                webhookFailingSince: failingSince,
                ...(disableReason ? { webhookDisabledAt: startedAt, webhookDisabledReason: disableReason } : {}),
              },
            })
          : db.webhookEndpoint.updateMany({
              where: { id: target.id },
              data: {
                failingSince,
                ...(disableReason ? { disabledAt: startedAt, disabledReason: disableReason } : {}),
              },
            }),
      );
    }
  }

  await recordOutcome(db, [
    db.deliveryAttempt.create({
      data: {
        deliveryId: claimed.id,
        attemptNumber,
        startedAt,
        durationMs: result.durationMs,
        requestUrl: url,
        requestHeaders: redactHeaders(headers),
        responseStatus: statusCode,
        // Receivers' Set-Cookie and the like do not belong in a log others can read.
        responseHeaders: result.kind === "response" ? redactHeaders(result.headers) : undefined,
        responseBody: result.kind === "response" ? result.body : null,
        error,
        nextAttemptAt,
      },
    }),
    db.webhookDelivery.update({
      where: { id: claimed.id },
      data: {
        status,
        lastStatusCode: statusCode,
        lastError: status === "SUCCESS" ? null : error,
        nextAttemptAt,
        lockedUntil: null,
        completedAt: status === "RETRYING" ? null : new Date(),
      },
    }),
    ...healthWrites,
  ]);

  logger.info(
    {
      event: claimed.eventType,
      eventId: claimed.eventId,
      deliveryId: claimed.id,
      oauthClientId: claimed.oauthClientId ?? undefined,
      endpointId: current.endpointId ?? undefined,
      attempt: attemptNumber,
      status,
      statusCode,
      durationMs: result.durationMs,
      error: error ?? undefined,
    },
    "Webhook delivery attempt",
  );
  if (disableReason)
    logger.warn({ target: target?.kind, id: target?.id, reason: disableReason }, "Webhook target disabled");

  if (status === "SUCCESS") return { outcome: "delivered", status: statusCode ?? 0 };
  if (status === "RETRYING" && nextAttemptAt) return { outcome: "retry", retryAt: nextAttemptAt };
  return { outcome: "failed", reason: error ?? "failed" };
}

/**
 * The request is already sent, so its outcome must be recorded even while the pool is busy:
 * Prisma's default gives up starting a transaction after 2 s, which lost the outcome and sent
 * the delivery again when its lease ended (tests/faults/database-stall.test.ts).
 */
function recordOutcome(db: Database, writes: Prisma.PrismaPromise<unknown>[]) {
  return db.$transaction(writes, { maxWait: 30_000, timeout: 30_000 });
}

/** When the engine gives up on a delivery's runs (not the delivery's own decision), record it. */
export async function markDeliveryAbandoned(deliveryId: string, error: unknown, db: Database = prisma): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const updated = await db.webhookDelivery.updateMany({
    where: { id: deliveryId, status: { in: ["PENDING", "RETRYING", "SENDING"] } },
    data: {
      status: "FAILED",
      lastError: `Abandoned by the job engine: ${message}`.slice(0, 2000),
      completedAt: new Date(),
      lockedUntil: null,
    },
  });
  if (updated.count > 0)
    logger.error({ deliveryId, error: message }, "Webhook delivery abandoned after repeated engine failures");
}
