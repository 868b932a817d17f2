import { describe, expect, it } from "vitest";
import { REDACTED } from "~/lib/webhooks/headers";
import { verifyWebhook } from "~/lib/webhooks/signing";
import {
  appBlockedReason,
  attemptOutcome,
  attemptRecord,
  attemptSummary,
  attemptVerdict,
  autoDisableReason,
  deliveryRequest,
  healthChange,
  INTERRUPTED_ATTEMPT_ERROR,
  interruptedAttempt,
  oauthAppTarget,
  operationalOutcome,
  signingSecretsInUse,
  TARGET_GONE_REASON,
  USER_AGENT,
  type AppWebhookColumns,
  type AttemptTarget,
  type ClaimedAttempt,
} from "~/services/webhooks/delivery-decisions.server";
import type { SendResult } from "~/services/webhooks/http-sender.server";

const SECOND = 1_000;
const HOUR = 3_600_000;
const startedAt = new Date("2026-03-10T08:00:00.000Z");
const now = new Date("2026-03-10T08:00:01.250Z");
const noJitter = () => 0.5;

const currentSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const previousSecret = "whsec_" + Buffer.alloc(32, 9).toString("base64");

const claimed: ClaimedAttempt = {
  id: "dlv_123",
  eventId: "evt_456",
  oauthClientId: "app_789",
  eventType: "user.updated",
  url: "https://stored.example.com/hook",
  body: '{"type":"user.updated"}',
  attemptCount: 1,
  maxAttempts: 8,
  previousStatus: "PENDING",
  previousLockedUntil: null,
};

function target(overrides: Partial<AttemptTarget> = {}): AttemptTarget {
  return {
    url: "https://receiver.example.com/webhooks",
    disabledReason: null,
    secrets: [currentSecret],
    timeoutMs: 30_000,
    retryBaseDelayMs: null,
    failingSince: null,
    customHeaders: {},
    ...overrides,
  };
}

function response(status: number, headers: Record<string, string> = {}, body = ""): SendResult {
  return { kind: "response", status, headers, body, durationMs: 42 };
}

function verdictFor(
  result: SendResult,
  {
    attemptCount = 1,
    maxAttempts = 8,
    on = target(),
    blockedReason = null,
  }: { attemptCount?: number; maxAttempts?: number; on?: AttemptTarget | null; blockedReason?: string | null } = {},
) {
  return attemptVerdict({
    delivery: { attemptCount, maxAttempts },
    target: on,
    blockedReason,
    result,
    startedAt,
    now,
    disableAfterHours: 120,
    random: noJitter,
  });
}

describe("appBlockedReason", () => {
  const open = {
    deletedAt: null,
    webhookDisabledAt: null,
    webhookDisabledReason: null,
    webhookUrl: "https://a.test/h",
  };

  it("lets an app with a URL, neither deleted nor disabled, receive", () => {
    expect(appBlockedReason(open)).toBeNull();
  });

  it("blocks a deleted app, before any other reason", () => {
    expect(
      appBlockedReason({
        deletedAt: startedAt,
        webhookDisabledAt: startedAt,
        webhookDisabledReason: "x",
        webhookUrl: null,
      }),
    ).toBe("The OAuth app was deleted.");
  });

  it("blocks a disabled app with the recorded reason", () => {
    expect(appBlockedReason({ ...open, webhookDisabledAt: startedAt, webhookDisabledReason: "410 Gone" })).toBe(
      "The app's webhook is disabled: 410 Gone",
    );
  });

  it("says so when a disabled app has no recorded reason", () => {
    expect(appBlockedReason({ ...open, webhookDisabledAt: startedAt })).toBe(
      "The app's webhook is disabled: no reason recorded",
    );
  });

  it("blocks an app without a webhook URL", () => {
    expect(appBlockedReason({ ...open, webhookUrl: null })).toBe("The app no longer has a webhook URL.");
    expect(appBlockedReason({ ...open, webhookUrl: "" })).toBe("The app no longer has a webhook URL.");
  });
});

describe("signingSecretsInUse", () => {
  it("signs with the current secret alone outside a rotation", () => {
    expect(signingSecretsInUse({ current: "c", previous: null, previousExpiresAt: null }, now)).toEqual(["c"]);
  });

  it("adds the previous secret, after the current one, during its grace period", () => {
    const previousExpiresAt = new Date(now.getTime() + 1);
    expect(signingSecretsInUse({ current: "c", previous: "p", previousExpiresAt }, now)).toEqual(["c", "p"]);
  });

  it("drops the previous secret from the moment its grace period ends", () => {
    expect(signingSecretsInUse({ current: "c", previous: "p", previousExpiresAt: now }, now)).toEqual(["c"]);
    const past = new Date(now.getTime() - HOUR);
    expect(signingSecretsInUse({ current: "c", previous: "p", previousExpiresAt: past }, now)).toEqual(["c"]);
  });

  it("never signs with a previous secret that has no expiry", () => {
    expect(signingSecretsInUse({ current: "c", previous: "p", previousExpiresAt: null }, now)).toEqual(["c"]);
  });

  it("gives no secrets when none is stored", () => {
    expect(signingSecretsInUse({ current: null, previous: null, previousExpiresAt: null }, now)).toEqual([]);
  });
});

describe("oauthAppTarget", () => {
  const app: AppWebhookColumns = {
    deletedAt: null,
    webhookDisabledAt: null,
    webhookDisabledReason: null,
    webhookUrl: "https://receiver.example.com/webhooks",
    webhookSecret: "enc(current)",
    previousWebhookSecret: "enc(previous)",
    previousSecretExpiresAt: new Date(now.getTime() + HOUR),
    webhookTimeoutMs: 12_000,
    webhookRetryBaseDelayMs: 2_000,
    webhookFailingSince: new Date(now.getTime() - HOUR),
  };
  const decrypt = (ciphertext: string) => ciphertext.replace(/^enc\((.*)\)$/, "$1");

  it("reads the app's settings and decrypts the secrets in use, current first", () => {
    expect(oauthAppTarget(app, { now, decrypt })).toEqual({
      url: "https://receiver.example.com/webhooks",
      disabledReason: null,
      secrets: ["current", "previous"],
      timeoutMs: 12_000,
      retryBaseDelayMs: 2_000,
      failingSince: app.webhookFailingSince,
      customHeaders: {},
    });
  });

  it("carries the app's blocked reason", () => {
    expect(oauthAppTarget({ ...app, deletedAt: startedAt }, { now, decrypt }).disabledReason).toBe(
      "The OAuth app was deleted.",
    );
  });

  it("lets a secret that cannot be decrypted throw", () => {
    const broken = () => {
      throw new Error("bad key");
    };
    expect(() => oauthAppTarget(app, { now, decrypt: broken })).toThrow("bad key");
  });
});

describe("interruptedAttempt", () => {
  const lockedUntil = new Date("2026-03-10T07:59:30.000Z");

  it("records the attempt a crashed worker left in SENDING, at its lease's end", () => {
    expect(
      interruptedAttempt(
        { ...claimed, previousStatus: "SENDING", attemptCount: 3, previousLockedUntil: lockedUntil },
        now,
      ),
    ).toEqual({
      deliveryId: "dlv_123",
      attemptNumber: 2,
      startedAt: lockedUntil,
      durationMs: 0,
      requestUrl: "https://stored.example.com/hook",
      requestHeaders: {},
      error: INTERRUPTED_ATTEMPT_ERROR,
    });
    expect(INTERRUPTED_ATTEMPT_ERROR).toBe(
      "The worker stopped during this attempt (crash or restart); its outcome is unknown, so Echo sent it again.",
    );
  });

  it("dates it now when the lease had no end", () => {
    expect(interruptedAttempt({ ...claimed, previousStatus: "SENDING", attemptCount: 2 }, now)?.startedAt).toBe(now);
  });

  it.each(["PENDING", "RETRYING"])("records nothing when the delivery was %s", (previousStatus) => {
    expect(interruptedAttempt({ ...claimed, previousStatus, attemptCount: 4 }, now)).toBeNull();
  });

  it("records nothing for a first attempt, even from SENDING", () => {
    expect(interruptedAttempt({ ...claimed, previousStatus: "SENDING", attemptCount: 1 }, now)).toBeNull();
  });
});

describe("deliveryRequest", () => {
  const request = (on: AttemptTarget | null, allowedHosts: readonly string[] = []) =>
    deliveryRequest({ delivery: claimed, target: on, startedAt, allowedHosts });

  it("sends JSON with Echo's user agent, the delivery and event, and all three signatures", () => {
    const { url, headers, blockedReason, unsent } = request(target());
    expect(url).toBe("https://receiver.example.com/webhooks");
    expect(blockedReason).toBeNull();
    expect(unsent).toBeNull();
    expect(Object.keys(headers)).toEqual([
      "content-type",
      "user-agent",
      "x-webhook-delivery",
      "x-webhook-event",
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
      "x-webhook-timestamp",
      "x-webhook-signature",
      "x-webhook-secret",
    ]);
    expect(headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Echo-OAuth-Webhooks/1.0",
      "x-webhook-delivery": "dlv_123",
      "x-webhook-event": "user.updated",
      "webhook-id": "dlv_123",
      "webhook-timestamp": String(startedAt.getTime() / 1000),
    });
    expect(USER_AGENT).toBe("Echo-OAuth-Webhooks/1.0");
    const verified = verifyWebhook(claimed.body, headers, [currentSecret], { now: startedAt });
    expect(verified).toEqual({
      ok: true,
      format: "standard-webhooks",
      id: "dlv_123",
      timestamp: startedAt.getTime() / 1000,
    });
  });

  it("signs with whole seconds of the start time", () => {
    const { headers } = deliveryRequest({
      delivery: claimed,
      target: target(),
      startedAt: new Date("2026-03-10T08:00:00.999Z"),
      allowedHosts: [],
    });
    expect(headers["webhook-timestamp"]).toBe(String(Date.parse("2026-03-10T08:00:00Z") / 1000));
  });

  it("signs with both secrets during a rotation, so receivers holding either verify it", () => {
    const { headers } = request(target({ secrets: [currentSecret, previousSecret] }));
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(headers["x-webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [currentSecret, previousSecret]) {
      expect(verifyWebhook(claimed.body, headers, [secret], { now: startedAt }).ok).toBe(true);
    }
    // The legacy body-only form carries the current secret's signature only.
    const legacy = { "x-webhook-secret": headers["x-webhook-secret"]! };
    expect(verifyWebhook(claimed.body, legacy, [currentSecret], { allowLegacyBodyOnly: true }).ok).toBe(true);
    expect(verifyWebhook(claimed.body, legacy, [previousSecret], { allowLegacyBodyOnly: true }).ok).toBe(false);
  });

  it("sends unsigned when the target has no secret", () => {
    const { headers, blockedReason } = request(target({ secrets: [] }));
    expect(blockedReason).toBeNull();
    expect(headers).toEqual({
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "x-webhook-delivery": "dlv_123",
      "x-webhook-event": "user.updated",
    });
  });

  it("puts an endpoint's custom headers first", () => {
    const { headers } = request(target({ customHeaders: { "X-Team": "billing" } }));
    expect(Object.keys(headers).slice(0, 2)).toEqual(["X-Team", "content-type"]);
    expect(headers["X-Team"]).toBe("billing");
  });

  it("blocks, unsigned, a delivery whose secret cannot sign", () => {
    const { headers, blockedReason, unsent } = request(target({ secrets: ["not-a-secret"] }));
    const reason =
      'The webhook secret could not sign this delivery (A webhook secret starts with "whsec_".); rotate the secret.';
    expect(blockedReason).toBe(reason);
    expect(unsent).toEqual({ kind: "connection_error", error: reason, durationMs: 0 });
    expect(headers["webhook-signature"]).toBeUndefined();
    expect(headers["x-webhook-secret"]).toBeUndefined();
  });

  it("gives the target's own reason before a signing error", () => {
    const { blockedReason } = request(target({ disabledReason: "The OAuth app was deleted.", secrets: ["bad"] }));
    expect(blockedReason).toBe("The OAuth app was deleted.");
  });

  it("blocks a delivery whose target is gone, and keeps the stored URL", () => {
    const { url, blockedReason, unsent, headers } = request(null);
    expect(url).toBe("https://stored.example.com/hook");
    expect(blockedReason).toBe(TARGET_GONE_REASON);
    expect(TARGET_GONE_REASON).toBe("The delivery's target no longer exists.");
    expect(unsent).toEqual({ kind: "connection_error", error: TARGET_GONE_REASON, durationMs: 0 });
    expect(headers["webhook-signature"]).toBeUndefined();
  });

  it("falls back to the stored URL when the target has none", () => {
    expect(request(target({ url: null, disabledReason: "The app no longer has a webhook URL." })).url).toBe(
      "https://stored.example.com/hook",
    );
  });

  it("refuses an IP literal Echo must not call, without blocking the delivery", () => {
    const { blockedReason, unsent } = request(target({ url: "http://10.1.2.3/hook" }));
    expect(blockedReason).toBeNull();
    expect(unsent).toEqual({
      kind: "refused_address",
      error:
        "Refused to connect to 10.1.2.3 (10.1.2.3): private, loopback, link-local, reserved and metadata addresses are not allowed.",
      durationMs: 0,
    });
  });

  it("sends to an allowlisted IP literal", () => {
    expect(request(target({ url: "http://10.1.2.3/hook" }), ["10.1.2.3"]).unsent).toBeNull();
  });

  it("reports a blocked delivery as blocked even when its address is refused too", () => {
    const { unsent } = request(target({ url: "http://10.1.2.3/hook", disabledReason: "disabled" }));
    expect(unsent).toEqual({ kind: "connection_error", error: "disabled", durationMs: 0 });
  });
});

describe("attemptVerdict", () => {
  it("marks a 2xx delivered and complete", () => {
    expect(verdictFor(response(204))).toEqual({
      status: "SUCCESS",
      statusCode: 204,
      error: null,
      nextAttemptAt: null,
      completedAt: now,
      disableReason: null,
      health: null,
    });
  });

  it("retries a 5xx on the schedule, and leaves the delivery open", () => {
    expect(verdictFor(response(503))).toEqual({
      status: "RETRYING",
      statusCode: 503,
      error: "HTTP 503",
      nextAttemptAt: new Date(now.getTime() + 5 * SECOND),
      completedAt: null,
      disableReason: null,
      health: { kind: "failing", failingSince: startedAt, disable: null },
    });
  });

  it("scales the schedule by the target's base delay", () => {
    expect(verdictFor(response(500), { on: target({ retryBaseDelayMs: 1_000 }) }).nextAttemptAt).toEqual(
      new Date(now.getTime() + SECOND),
    );
  });

  it("waits as long as the receiver's Retry-After asks when it is later than the schedule", () => {
    expect(verdictFor(response(429, { "retry-after": "120" })).nextAttemptAt).toEqual(
      new Date(now.getTime() + 120 * SECOND),
    );
  });

  it("fails, complete, when the retries are used up", () => {
    const verdict = verdictFor(response(500), { attemptCount: 8, maxAttempts: 8 });
    expect(verdict).toMatchObject({ status: "FAILED", error: "HTTP 500", nextAttemptAt: null, completedAt: now });
  });

  it("fails a delivery that allows no retries at its first error", () => {
    expect(verdictFor(response(500), { attemptCount: 1, maxAttempts: 1 }).status).toBe("FAILED");
  });

  it("fails a 4xx at once, saying it is not retried", () => {
    expect(verdictFor(response(422))).toMatchObject({
      status: "FAILED",
      statusCode: 422,
      error: "HTTP 422 (not retried)",
      nextAttemptAt: null,
      completedAt: now,
      disableReason: null,
    });
  });

  it("fails a 410 Gone and disables the target from the attempt's start", () => {
    const reason = "The receiver answered 410 Gone on 2026-03-10T08:00:00.000Z.";
    expect(verdictFor(response(410))).toMatchObject({
      status: "FAILED",
      error: "HTTP 410 (not retried)",
      disableReason: reason,
      health: { kind: "failing", failingSince: startedAt, disable: { at: startedAt, reason } },
    });
  });

  it("keeps the first failure's time when a failing target answers 410", () => {
    const failingSince = new Date(startedAt.getTime() - HOUR);
    expect(verdictFor(response(410), { on: target({ failingSince }) }).health).toEqual({
      kind: "failing",
      failingSince,
      disable: { at: startedAt, reason: "The receiver answered 410 Gone on 2026-03-10T08:00:00.000Z." },
    });
  });

  it("retries a timeout and a connection error with the sender's message", () => {
    const timeout: SendResult = { kind: "timeout", error: "Timed out after 30000 ms (x)", durationMs: 30_000 };
    expect(verdictFor(timeout)).toMatchObject({ status: "RETRYING", statusCode: null, error: timeout.error });
    const refusedConnection: SendResult = { kind: "connection_error", error: "ECONNREFUSED: no", durationMs: 3 };
    expect(verdictFor(refusedConnection)).toMatchObject({ status: "RETRYING", error: "ECONNREFUSED: no" });
  });

  it("fails a refused address at once, without disabling the target", () => {
    const refused: SendResult = { kind: "refused_address", error: "Refused to connect", durationMs: 0 };
    expect(verdictFor(refused)).toMatchObject({
      status: "FAILED",
      error: "Refused to connect",
      nextAttemptAt: null,
      disableReason: null,
    });
  });

  it("fails a blocked delivery at once and leaves a disabled target's health alone", () => {
    const reason = "The app's webhook is disabled: no reason recorded";
    const verdict = verdictFor(
      { kind: "connection_error", error: reason, durationMs: 0 },
      { on: target({ disabledReason: reason }), blockedReason: reason },
    );
    expect(verdict).toEqual({
      status: "FAILED",
      statusCode: null,
      error: reason,
      nextAttemptAt: null,
      completedAt: now,
      disableReason: null,
      health: null,
    });
  });

  it("counts a signing failure against an enabled target's health", () => {
    const reason = "The webhook secret could not sign this delivery (x); rotate the secret.";
    const verdict = verdictFor({ kind: "connection_error", error: reason, durationMs: 0 }, { blockedReason: reason });
    expect(verdict.status).toBe("FAILED");
    expect(verdict.health).toEqual({ kind: "failing", failingSince: startedAt, disable: null });
  });

  it("changes no health when the target is gone", () => {
    const verdict = verdictFor(
      { kind: "connection_error", error: TARGET_GONE_REASON, durationMs: 0 },
      { on: null, blockedReason: TARGET_GONE_REASON },
    );
    expect(verdict).toMatchObject({ status: "FAILED", error: TARGET_GONE_REASON, health: null, disableReason: null });
  });

  it("marks a failing target recovered on a success", () => {
    const failingSince = new Date(startedAt.getTime() - 200 * HOUR);
    expect(verdictFor(response(200), { on: target({ failingSince }) })).toMatchObject({
      status: "SUCCESS",
      disableReason: null,
      health: { kind: "recovered" },
    });
  });

  it("disables a target that has failed for longer than the limit", () => {
    const failingSince = new Date(startedAt.getTime() - 120 * HOUR - 1);
    const reason = "Every delivery failed for more than 120 hours (since 2026-03-05T07:59:59.999Z).";
    expect(verdictFor(response(500), { on: target({ failingSince }) })).toMatchObject({
      status: "RETRYING",
      disableReason: reason,
      health: { kind: "failing", failingSince, disable: { at: startedAt, reason } },
    });
  });

  it("writes nothing for a target still failing within the limit", () => {
    const failingSince = new Date(startedAt.getTime() - 120 * HOUR);
    expect(verdictFor(response(500), { on: target({ failingSince }) })).toMatchObject({
      disableReason: null,
      health: null,
    });
  });
});

describe("autoDisableReason", () => {
  const failingSince = new Date(startedAt.getTime() - 48 * HOUR);

  it("never disables after a success, however long the target failed before", () => {
    expect(
      autoDisableReason({ status: "SUCCESS", gone: false, failingSince, startedAt, disableAfterHours: 24 }),
    ).toBeNull();
  });

  it("counts the limit in the configured hours", () => {
    expect(autoDisableReason({ status: "FAILED", gone: false, failingSince, startedAt, disableAfterHours: 47 })).toBe(
      "Every delivery failed for more than 47 hours (since 2026-03-08T08:00:00.000Z).",
    );
    expect(
      autoDisableReason({ status: "FAILED", gone: false, failingSince, startedAt, disableAfterHours: 48 }),
    ).toBeNull();
  });

  it("gives 410 Gone as the reason before a long failure", () => {
    expect(autoDisableReason({ status: "FAILED", gone: true, failingSince, startedAt, disableAfterHours: 1 })).toBe(
      "The receiver answered 410 Gone on 2026-03-10T08:00:00.000Z.",
    );
  });

  it("never disables a target that was not failing", () => {
    expect(
      autoDisableReason({ status: "FAILED", gone: false, failingSince: null, startedAt, disableAfterHours: 1 }),
    ).toBeNull();
  });
});

describe("healthChange", () => {
  const failingSince = new Date(startedAt.getTime() - HOUR);
  const base = { targetDisabled: false, startedAt, disableReason: null };

  it("changes nothing after a success on a healthy target", () => {
    expect(healthChange({ ...base, status: "SUCCESS", failingSince: null })).toBeNull();
  });

  it("starts the failure clock at the first failure", () => {
    expect(healthChange({ ...base, status: "RETRYING", failingSince: null })).toEqual({
      kind: "failing",
      failingSince: startedAt,
      disable: null,
    });
  });

  it("leaves the clock of a target already failing", () => {
    expect(healthChange({ ...base, status: "FAILED", failingSince })).toBeNull();
  });

  it("disables with the reason at the attempt's start", () => {
    expect(healthChange({ ...base, status: "FAILED", failingSince, disableReason: "gone" })).toEqual({
      kind: "failing",
      failingSince,
      disable: { at: startedAt, reason: "gone" },
    });
  });

  it("leaves a disabled target alone, whatever happened", () => {
    expect(healthChange({ ...base, targetDisabled: true, status: "SUCCESS", failingSince })).toBeNull();
    expect(healthChange({ ...base, targetDisabled: true, status: "FAILED", failingSince: null })).toBeNull();
  });
});

describe("attemptRecord", () => {
  it("keeps the exchange with signatures, credentials and cookies redacted", () => {
    const { headers, url } = deliveryRequest({
      delivery: claimed,
      target: target({ customHeaders: { "X-Api-Key": "k-123" } }),
      startedAt,
      allowedHosts: [],
    });
    const result = response(200, { "set-cookie": "session=abc", "content-type": "text/plain" }, "ok");
    const verdict = verdictFor(result);
    const record = attemptRecord({
      delivery: { ...claimed, attemptCount: 3 },
      startedAt,
      request: { url, headers },
      result,
      verdict,
    });
    expect(record).toMatchObject({
      deliveryId: "dlv_123",
      attemptNumber: 3,
      startedAt,
      durationMs: 42,
      requestUrl: "https://receiver.example.com/webhooks",
      responseStatus: 200,
      responseHeaders: { "set-cookie": REDACTED, "content-type": "text/plain" },
      responseBody: "ok",
      error: null,
      nextAttemptAt: null,
    });
    expect(record.requestHeaders).toMatchObject({
      "X-Api-Key": REDACTED,
      "webhook-signature": REDACTED,
      "x-webhook-signature": REDACTED,
      "x-webhook-secret": REDACTED,
      "webhook-id": "dlv_123",
      "user-agent": USER_AGENT,
    });
  });

  it("has no response headers or body when nothing answered", () => {
    const result: SendResult = { kind: "timeout", error: "Timed out", durationMs: 30_000 };
    const record = attemptRecord({
      delivery: claimed,
      startedAt,
      request: { url: "https://r.example.com", headers: {} },
      result,
      verdict: verdictFor(result),
    });
    expect(record).toMatchObject({
      responseStatus: null,
      responseHeaders: null,
      responseBody: null,
      error: "Timed out",
      durationMs: 30_000,
      nextAttemptAt: new Date(now.getTime() + 5 * SECOND),
    });
  });
});

describe("attemptSummary", () => {
  it("names the delivery, its target and the outcome", () => {
    const verdict = verdictFor(response(500));
    expect(attemptSummary({ delivery: claimed, endpointId: null, record: { durationMs: 42 }, verdict })).toEqual({
      event: "user.updated",
      eventId: "evt_456",
      deliveryId: "dlv_123",
      oauthClientId: "app_789",
      endpointId: undefined,
      attempt: 1,
      status: "RETRYING",
      statusCode: 500,
      durationMs: 42,
      error: "HTTP 500",
    });
  });

  it("names an endpoint instead of an app", () => {
    const summary = attemptSummary({
      delivery: { ...claimed, oauthClientId: null },
      endpointId: "ep_1",
      record: { durationMs: 1 },
      verdict: verdictFor(response(200)),
    });
    expect(summary).toMatchObject({ oauthClientId: undefined, endpointId: "ep_1", error: undefined });
  });
});

describe("attemptOutcome", () => {
  it("reports a success with its status", () => {
    expect(attemptOutcome(verdictFor(response(201)))).toEqual({ outcome: "delivered", status: 201 });
  });

  it("reports a retry with its time", () => {
    expect(attemptOutcome(verdictFor(response(502)))).toEqual({
      outcome: "retry",
      retryAt: new Date(now.getTime() + 5 * SECOND),
    });
  });

  it("reports a failure with its error", () => {
    expect(attemptOutcome(verdictFor(response(404)))).toEqual({ outcome: "failed", reason: "HTTP 404 (not retried)" });
  });

  it("says 'failed' for a failure without an error", () => {
    expect(attemptOutcome({ status: "FAILED", statusCode: null, error: null, nextAttemptAt: null })).toEqual({
      outcome: "failed",
      reason: "failed",
    });
  });
});

describe("operationalOutcome", () => {
  const of = (
    result: SendResult,
    {
      eventType = "order.created",
      endpointId = "endpoint_1" as string | null,
      blockedReason = null as string | null,
      attemptCount = 1,
      maxAttempts = 8,
    } = {},
  ) =>
    operationalOutcome({
      delivery: { eventType },
      endpointId,
      blockedReason,
      verdict: verdictFor(result, { attemptCount, maxAttempts, blockedReason }),
    });

  it("raises nothing while a delivery succeeds or still has retries", () => {
    expect(of(response(200))).toEqual({ exhausted: false, disabled: false });
    expect(of(response(503))).toEqual({ exhausted: false, disabled: false });
  });

  it("raises delivery.exhausted when the last retry fails, and when a 4xx is not retried", () => {
    expect(of(response(500), { attemptCount: 8, maxAttempts: 8 })).toEqual({ exhausted: true, disabled: false });
    expect(of(response(422))).toEqual({ exhausted: true, disabled: false });
  });

  it("raises endpoint.disabled as well when the attempt disables the endpoint (410 Gone)", () => {
    expect(of(response(410))).toEqual({ exhausted: true, disabled: true });
  });

  it("raises nothing for a delivery blocked by its disabled endpoint: endpoint.disabled already said so", () => {
    expect(
      of(
        { kind: "connection_error", error: "The endpoint is disabled: gone", durationMs: 0 },
        {
          blockedReason: "The endpoint is disabled: gone",
        },
      ),
    ).toEqual({ exhausted: false, disabled: false });
  });

  it("raises nothing about a delivery of an operational event, so a failing endpoint cannot feed a loop", () => {
    for (const eventType of ["delivery.exhausted", "endpoint.disabled", "endpoint.enabled", "secret.rotated"]) {
      expect(of(response(410), { eventType })).toEqual({ exhausted: false, disabled: false });
      expect(of(response(500), { eventType, attemptCount: 8, maxAttempts: 8 })).toEqual({
        exhausted: false,
        disabled: false,
      });
    }
  });

  it("raises nothing for an OAuth app's webhook", () => {
    expect(of(response(410), { endpointId: null })).toEqual({ exhausted: false, disabled: false });
  });
});
