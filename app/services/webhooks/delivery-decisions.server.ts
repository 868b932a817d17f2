import { isOperationalEventType } from "~/lib/events/catalog";
import { redactHeaders } from "~/lib/webhooks/headers";
import { checkLiteralDestination } from "~/lib/webhooks/outbound-url";
import { classifyAttempt, computeNextAttemptAt } from "~/lib/webhooks/retry-policy";
import { buildSignatureHeaders } from "~/lib/webhooks/signing";
import type { SendResult } from "./http-sender.server";

/**
 * The decisions of one delivery attempt that need neither the database nor the network.
 * attemptWebhookDelivery (deliver-webhook.server.ts, the Trigger.dev path, test sends) and the
 * embedded engine's delivery queue (delivery-queue.server.ts) both make them here, so a rule changed for one path holds for
 * the other. Clocks, settings and decryption are inputs, so each rule can be tested with
 * fixed values.
 */

export const USER_AGENT = "Echo-OAuth-Webhooks/1.0";

export const TARGET_GONE_REASON = "The delivery's target no longer exists.";

export const INTERRUPTED_ATTEMPT_ERROR =
  "The worker stopped during this attempt (crash or restart); its outcome is unknown, so Echo sent it again.";

export type DeliveryAttemptResult =
  | { outcome: "delivered"; status: number }
  | { outcome: "skipped"; reason: string }
  | { outcome: "retry"; retryAt: Date }
  | { outcome: "failed"; reason: string }
  /** The endpoint is paused: the delivery waits, untouched, and resuming sends it. */
  | { outcome: "paused" }
  /** The endpoint's per-minute limit is reached: a new run is queued for the next window. */
  | { outcome: "deferred"; until: Date };

/** What an attempt needs to know of its target, an OAuth app or an endpoint. */
export type AttemptTarget = {
  url: string | null;
  /** Why the target may not receive now, or null. */
  disabledReason: string | null;
  /** Plaintext, current first. */
  secrets: string[];
  timeoutMs: number;
  retryBaseDelayMs: number | null;
  failingSince: Date | null;
  customHeaders: Record<string, string>;
};

/** The OAuth app's columns that decide whether it may receive webhooks. */
export type AppWebhookState = {
  deletedAt: Date | null;
  webhookDisabledAt: Date | null;
  webhookDisabledReason: string | null;
  webhookUrl: string | null;
};

/** Why nothing may be sent to this OAuth app, or null when it may receive. */
export function appBlockedReason(app: AppWebhookState): string | null {
  if (app.deletedAt) return "The OAuth app was deleted.";
  if (app.webhookDisabledAt)
    return `The app's webhook is disabled: ${app.webhookDisabledReason ?? "no reason recorded"}`;
  if (!app.webhookUrl) return "The app no longer has a webhook URL.";
  return null;
}

/**
 * The stored secrets that sign a delivery, current first. They stay encrypted here: each path
 * decrypts them its own way (the batched one caches the plaintext).
 */
export function signingSecretsInUse(
  stored: { current: string | null; previous: string | null; previousExpiresAt: Date | null },
  now: Date,
): string[] {
  const secrets: string[] = [];
  if (stored.current) secrets.push(stored.current);
  // During a rotation's grace period the old secret signs too, so receivers can switch at leisure.
  if (stored.previous && stored.previousExpiresAt && stored.previousExpiresAt > now) secrets.push(stored.previous);
  return secrets;
}

export type AppWebhookColumns = AppWebhookState & {
  webhookSecret: string | null;
  previousWebhookSecret: string | null;
  previousSecretExpiresAt: Date | null;
  webhookTimeoutMs: number;
  webhookRetryBaseDelayMs: number | null;
  webhookFailingSince: Date | null;
};

/**
 * An OAuth app as an attempt's target, from the columns both paths read (one with its own
 * query, the batched one in its claim). A secret that cannot be decrypted throws.
 */
export function oauthAppTarget(
  app: AppWebhookColumns,
  { now, decrypt }: { now: Date; decrypt: (ciphertext: string) => string },
): AttemptTarget {
  return {
    url: app.webhookUrl,
    disabledReason: appBlockedReason(app),
    secrets: signingSecretsInUse(
      {
        current: app.webhookSecret,
        previous: app.previousWebhookSecret,
        previousExpiresAt: app.previousSecretExpiresAt,
      },
      now,
    ).map((secret) => decrypt(secret)),
    timeoutMs: app.webhookTimeoutMs,
    retryBaseDelayMs: app.webhookRetryBaseDelayMs,
    failingSince: app.webhookFailingSince,
    customHeaders: {},
  };
}

/** The endpoint's columns an attempt needs, read by either path's query. */
export type EndpointWebhookColumns = {
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  enabled: boolean;
  disabledAt: Date | null;
  disabledReason: string | null;
  failingSince: Date | null;
  timeoutMs: number;
  retryBaseDelayMs: number | null;
};

/** Why nothing may be sent to this endpoint, or null when it may receive. */
export function endpointBlockedReason(
  endpoint: Pick<EndpointWebhookColumns, "enabled" | "disabledAt" | "disabledReason">,
) {
  if (endpoint.disabledAt) return `The endpoint is disabled: ${endpoint.disabledReason ?? "no reason recorded"}`;
  if (!endpoint.enabled) return "The endpoint was switched off by its owner.";
  return null;
}

/**
 * An endpoint as an attempt's target. Its custom headers come opened and checked (they are
 * encrypted at rest: each path opens them its own way). A secret that cannot be decrypted throws.
 */
export function endpointTarget(
  endpoint: EndpointWebhookColumns,
  {
    now,
    decrypt,
    customHeaders,
  }: { now: Date; decrypt: (ciphertext: string) => string; customHeaders: Record<string, string> },
): AttemptTarget {
  return {
    url: endpoint.url,
    disabledReason: endpointBlockedReason(endpoint),
    secrets: signingSecretsInUse(
      {
        current: endpoint.secret,
        previous: endpoint.previousSecret,
        previousExpiresAt: endpoint.previousSecretExpiresAt,
      },
      now,
    ).map((secret) => decrypt(secret)),
    timeoutMs: endpoint.timeoutMs,
    retryBaseDelayMs: endpoint.retryBaseDelayMs,
    failingSince: endpoint.failingSince,
    customHeaders,
  };
}

/** A delivery as its claim returns it: attemptCount is already this attempt's number. */
export type ClaimedAttempt = {
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

/** One attempt's row in the delivery log. */
export type AttemptRow = {
  deliveryId: string;
  attemptNumber: number;
  startedAt: Date;
  durationMs: number;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  error: string | null;
  nextAttemptAt: Date | null;
};

export type InterruptedAttempt = Pick<
  AttemptRow,
  "deliveryId" | "attemptNumber" | "startedAt" | "durationMs" | "requestUrl" | "requestHeaders"
> & { error: string };

/**
 * A claim that took the delivery over from SENDING means the previous attempt's worker died
 * mid-send: its attempt row, so the log shows every try. Null when there was no such attempt.
 */
export function interruptedAttempt(
  claimed: Pick<ClaimedAttempt, "id" | "url" | "attemptCount" | "previousStatus" | "previousLockedUntil">,
  now: Date,
): InterruptedAttempt | null {
  if (claimed.previousStatus !== "SENDING" || claimed.attemptCount <= 1) return null;
  return {
    deliveryId: claimed.id,
    attemptNumber: claimed.attemptCount - 1,
    // Its lease's end is the last moment it was known to be running.
    startedAt: claimed.previousLockedUntil ?? now,
    durationMs: 0,
    requestUrl: claimed.url,
    requestHeaders: {},
    error: INTERRUPTED_ATTEMPT_ERROR,
  };
}

export type DeliveryRequest = {
  /** The target's URL; the one stored with the delivery when the target is gone. */
  url: string;
  headers: Record<string, string>;
  /** Why the request must not go out: the target's reason first, else an unusable secret. */
  blockedReason: string | null;
  /**
   * Set when the request must not go out, as the result to record instead: a blocked
   * delivery as a connection error carrying the reason, or an IP literal Echo refuses to call.
   */
  unsent: SendResult | null;
};

/** Everything about one attempt's request that is known before it is sent. */
export function deliveryRequest({
  delivery,
  target,
  startedAt,
  allowedHosts,
}: {
  delivery: Pick<ClaimedAttempt, "id" | "eventType" | "url" | "body">;
  /** Null when the target no longer exists. */
  target: AttemptTarget | null;
  startedAt: Date;
  allowedHosts: readonly string[];
}): DeliveryRequest {
  const url = target?.url ?? delivery.url;
  let signingError: string | null = null;
  let signatureHeaders: Record<string, string> = {};
  if (target && target.secrets.length > 0) {
    try {
      signatureHeaders = {
        ...buildSignatureHeaders({
          body: delivery.body,
          id: delivery.id,
          timestamp: Math.floor(startedAt.getTime() / 1000),
          secrets: target.secrets,
        }),
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
    "x-webhook-delivery": delivery.id,
    "x-webhook-event": delivery.eventType,
    ...signatureHeaders,
  };
  const refused = checkLiteralDestination(url, allowedHosts);
  const blockedReason = !target ? TARGET_GONE_REASON : (target.disabledReason ?? signingError);
  const unsent: SendResult | null = blockedReason
    ? { kind: "connection_error", error: blockedReason, durationMs: 0 }
    : refused
      ? { kind: "refused_address", error: refused.message, durationMs: 0 }
      : null;
  return { url, headers, blockedReason, unsent };
}

export type DeliveryStatus = "SUCCESS" | "RETRYING" | "FAILED";

/**
 * Why the target is disabled after this attempt, or null: the receiver said 410 Gone, or no
 * delivery has succeeded for longer than the limit (counted from the first failure).
 */
export function autoDisableReason({
  status,
  gone,
  failingSince,
  startedAt,
  disableAfterHours,
}: {
  status: DeliveryStatus;
  /** The receiver answered 410 Gone. */
  gone: boolean;
  failingSince: Date | null;
  startedAt: Date;
  disableAfterHours: number;
}): string | null {
  if (gone) return `The receiver answered 410 Gone on ${startedAt.toISOString()}.`;
  if (
    failingSince &&
    status !== "SUCCESS" &&
    startedAt.getTime() - failingSince.getTime() > disableAfterHours * 3_600_000
  ) {
    return `Every delivery failed for more than ${disableAfterHours} hours (since ${failingSince.toISOString()}).`;
  }
  return null;
}

export type HealthChange =
  { kind: "recovered" } | { kind: "failing"; failingSince: Date; disable: { at: Date; reason: string } | null };

/**
 * How the target's health (failing since, disabled) changes, or null when it stays. Only a
 * change is written: writing the row on every delivery would make all deliveries to one
 * target queue on that row's lock. A disabled or missing target's row is left as it is.
 */
export function healthChange({
  targetDisabled,
  status,
  failingSince,
  startedAt,
  disableReason,
}: {
  targetDisabled: boolean;
  status: DeliveryStatus;
  failingSince: Date | null;
  startedAt: Date;
  disableReason: string | null;
}): HealthChange | null {
  if (targetDisabled) return null;
  if (status === "SUCCESS") return failingSince ? { kind: "recovered" } : null;
  if (failingSince && !disableReason) return null;
  return {
    kind: "failing",
    failingSince: failingSince ?? startedAt,
    disable: disableReason ? { at: startedAt, reason: disableReason } : null,
  };
}

export type DeliveryVerdict = {
  status: DeliveryStatus;
  statusCode: number | null;
  /** Also the delivery's lastError, except after a success. */
  error: string | null;
  nextAttemptAt: Date | null;
  /** Null while retries remain. */
  completedAt: Date | null;
  /** Why the target is disabled now, or null. */
  disableReason: string | null;
  health: HealthChange | null;
};

/** Where the attempt leaves the delivery and its target. */
export function attemptVerdict({
  delivery,
  target,
  blockedReason,
  result,
  startedAt,
  now,
  disableAfterHours,
  random,
}: {
  delivery: Pick<ClaimedAttempt, "attemptCount" | "maxAttempts">;
  /** Null when the target no longer exists. */
  target: Pick<AttemptTarget, "disabledReason" | "failingSince" | "retryBaseDelayMs"> | null;
  /** From deliveryRequest: set when the request was not sent because the delivery is blocked. */
  blockedReason: string | null;
  result: SendResult;
  startedAt: Date;
  /** When the attempt ended. */
  now: Date;
  disableAfterHours: number;
  /** Jitter source for the next attempt's time; tests fix it. */
  random?: () => number;
}): DeliveryVerdict {
  // A blocked delivery's stand-in connection error is not a receiver's failure: retrying would change nothing.
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
  const nextAttemptAt =
    verdict.kind === "retryable"
      ? computeNextAttemptAt({
          attemptNumber: delivery.attemptCount,
          maxAttempts: delivery.maxAttempts,
          baseDelayMs: target?.retryBaseDelayMs ?? undefined,
          retryAfter: result.kind === "response" ? result.headers["retry-after"] : undefined,
          now,
          random,
        })
      : null;
  const status = verdict.kind === "success" ? "SUCCESS" : nextAttemptAt ? "RETRYING" : "FAILED";
  const statusCode = result.kind === "response" ? result.status : null;
  const error =
    (result.kind === "response" ? null : result.error) ??
    (verdict.kind === "success"
      ? null
      : `HTTP ${statusCode}${status === "FAILED" && verdict.kind === "permanent" ? " (not retried)" : ""}`);
  const failingSince = target?.failingSince ?? null;
  const disableReason = autoDisableReason({
    status,
    gone: verdict.kind === "permanent" && verdict.disableEndpoint,
    failingSince,
    startedAt,
    disableAfterHours,
  });
  return {
    status,
    statusCode,
    error,
    nextAttemptAt,
    completedAt: status === "RETRYING" ? null : now,
    disableReason,
    health: healthChange({
      targetDisabled: !target || Boolean(target.disabledReason),
      status,
      failingSince,
      startedAt,
      disableReason,
    }),
  };
}

/**
 * The attempt's row in the delivery log. Others can read the log, so signatures, credentials
 * and receivers' Set-Cookie and the like are redacted.
 */
export function attemptRecord({
  delivery,
  startedAt,
  request,
  result,
  verdict,
}: {
  delivery: Pick<ClaimedAttempt, "id" | "attemptCount">;
  startedAt: Date;
  request: Pick<DeliveryRequest, "url" | "headers">;
  result: SendResult;
  verdict: Pick<DeliveryVerdict, "statusCode" | "error" | "nextAttemptAt">;
}): AttemptRow {
  return {
    deliveryId: delivery.id,
    attemptNumber: delivery.attemptCount,
    startedAt,
    durationMs: result.durationMs,
    requestUrl: request.url,
    requestHeaders: redactHeaders(request.headers),
    responseStatus: verdict.statusCode,
    responseHeaders: result.kind === "response" ? redactHeaders(result.headers) : null,
    responseBody: result.kind === "response" ? result.body : null,
    error: verdict.error,
    nextAttemptAt: verdict.nextAttemptAt,
  };
}

/** The fields of the "Webhook delivery attempt" log line. */
export function attemptSummary({
  delivery,
  endpointId = null,
  record,
  verdict,
}: {
  delivery: Pick<ClaimedAttempt, "id" | "eventId" | "eventType" | "oauthClientId" | "attemptCount">;
  endpointId?: string | null;
  record: Pick<AttemptRow, "durationMs">;
  verdict: Pick<DeliveryVerdict, "status" | "statusCode" | "error">;
}) {
  return {
    event: delivery.eventType,
    eventId: delivery.eventId,
    deliveryId: delivery.id,
    oauthClientId: delivery.oauthClientId ?? undefined,
    endpointId: endpointId ?? undefined,
    attempt: delivery.attemptCount,
    status: verdict.status,
    statusCode: verdict.statusCode,
    durationMs: record.durationMs,
    error: verdict.error ?? undefined,
  };
}

/**
 * The operational events an attempt's outcome raises about its endpoint (both engines decide
 * here): `delivery.exhausted` when the delivery failed for good after being sent (one blocked
 * because its endpoint is disabled or gone raises nothing: `endpoint.disabled` said so once),
 * and `endpoint.disabled` when this attempt disables the endpoint. OAuth apps' webhooks raise
 * none. A delivery of an operational event raises none either, so an endpoint that fails to
 * receive them cannot feed a loop of events about its own failures.
 */
export function operationalOutcome({
  delivery,
  endpointId,
  blockedReason,
  verdict,
}: {
  delivery: Pick<ClaimedAttempt, "eventType">;
  endpointId: string | null;
  blockedReason: string | null;
  verdict: Pick<DeliveryVerdict, "status" | "health">;
}): { exhausted: boolean; disabled: boolean } {
  if (!endpointId || isOperationalEventType(delivery.eventType)) return { exhausted: false, disabled: false };
  return {
    exhausted: verdict.status === "FAILED" && !blockedReason,
    disabled: verdict.health?.kind === "failing" && verdict.health.disable !== null,
  };
}

/** What the job engine is told about a recorded attempt. */
export function attemptOutcome(
  verdict: Pick<DeliveryVerdict, "status" | "statusCode" | "error" | "nextAttemptAt">,
): DeliveryAttemptResult {
  if (verdict.status === "SUCCESS") return { outcome: "delivered", status: verdict.statusCode ?? 0 };
  if (verdict.status === "RETRYING" && verdict.nextAttemptAt)
    return { outcome: "retry", retryAt: verdict.nextAttemptAt };
  return { outcome: "failed", reason: verdict.error ?? "failed" };
}
