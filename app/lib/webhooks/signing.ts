import { createHmac, timingSafeEqual } from "node:crypto";
import { webhookSecretKey } from "./secrets";

/**
 * Echo signs every webhook three ways, so any receiver can verify it:
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
 *   `<id>.<timestamp>.<body>`, keyed with the base64-decoded `whsec_` secret.
 * - Timestamped: `X-Webhook-Timestamp` and `X-Webhook-Signature: sha256=<hex>` over `<timestamp>.<body>`.
 * - Legacy (the original contract): `X-Webhook-Secret: <hex>` over the body alone. It has no
 *   timestamp, so it cannot stop replays; verifiers accept it only when asked to.
 * The timestamped and legacy forms are keyed with the secret string's UTF-8 bytes, as in the
 * original contract. During a rotation, every secret given signs: several signatures,
 * space-separated. Pure functions, no I/O: receivers may copy this module.
 */

export type SignatureInput = {
  body: string | Buffer;
  /** The message id: Echo uses the delivery id, stable across retries. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** Current secret first, then any still in their grace period. */
  secrets: string[];
};

function hmac(key: Buffer | string, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function buildSignatureHeaders({ body, id, timestamp, secrets }: SignatureInput): Record<string, string> {
  if (secrets.length === 0) return {};
  const ts = String(timestamp);
  const current = secrets[0]!;
  return {
    "webhook-id": id,
    "webhook-timestamp": ts,
    "webhook-signature": secrets
      .map((secret) => `v1,${hmac(webhookSecretKey(secret), id, ".", ts, ".", body).toString("base64")}`)
      .join(" "),
    "x-webhook-timestamp": ts,
    "x-webhook-signature": secrets.map((secret) => `sha256=${hmac(secret, ts, ".", body).toString("hex")}`).join(" "),
    "x-webhook-secret": hmac(current, body).toString("hex"),
  };
}

export type VerifyFailure =
  | "missing_signature"
  | "missing_id"
  | "missing_timestamp"
  | "invalid_timestamp"
  | "stale_timestamp"
  | "future_timestamp"
  | "invalid_signature"
  | "no_secrets";

export type VerifyResult =
  | { ok: true; format: "standard-webhooks" | "timestamped" | "legacy"; timestamp?: number; id?: string }
  | { ok: false; reason: VerifyFailure };

export type VerifyOptions = {
  /** How far the timestamp may be from now, either way. Default 300 s. */
  toleranceSeconds?: number;
  /** Unix seconds; for tests. */
  now?: number;
  /** Accept `X-Webhook-Secret` alone (body-only HMAC, no replay protection). Off by default. */
  allowLegacyBodyOnly?: boolean;
};

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function headerGetter(headers: HeaderSource): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (name) => (headers as Headers).get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (value !== undefined) lower.set(key.toLowerCase(), Array.isArray(value) ? value.join(" ") : value);
  }
  return (name) => lower.get(name);
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkTimestamp(
  raw: string | undefined,
  options: VerifyOptions,
): { ok: true; value: number } | { ok: false; reason: VerifyFailure } {
  if (!raw) return { ok: false, reason: "missing_timestamp" };
  if (!/^\d{1,12}$/.test(raw)) return { ok: false, reason: "invalid_timestamp" };
  const value = Number(raw);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (value < now - tolerance) return { ok: false, reason: "stale_timestamp" };
  if (value > now + tolerance) return { ok: false, reason: "future_timestamp" };
  return { ok: true, value };
}

/**
 * Verifies an Echo webhook against one or more secrets (accept the old and the new one
 * during a rotation). Pass the raw body exactly as received, before any JSON parsing.
 */
export function verifyWebhook(
  rawBody: string | Buffer,
  headers: HeaderSource,
  secrets: string[],
  options: VerifyOptions = {},
): VerifyResult {
  if (secrets.length === 0) return { ok: false, reason: "no_secrets" };
  const header = headerGetter(headers);

  const standardSignature = header("webhook-signature");
  if (standardSignature) {
    const id = header("webhook-id");
    if (!id) return { ok: false, reason: "missing_id" };
    const timestamp = checkTimestamp(header("webhook-timestamp"), options);
    if (!timestamp.ok) return timestamp;
    const offered = standardSignature
      .split(" ")
      .filter((entry) => entry.startsWith("v1,"))
      .map((entry) => Buffer.from(entry.slice(3), "base64"));
    for (const secret of secrets) {
      let key: Buffer;
      try {
        key = webhookSecretKey(secret);
      } catch {
        continue;
      }
      const expected = hmac(key, id, ".", String(timestamp.value), ".", rawBody);
      if (offered.some((candidate) => constantTimeEqual(candidate, expected))) {
        return { ok: true, format: "standard-webhooks", timestamp: timestamp.value, id };
      }
    }
    return { ok: false, reason: "invalid_signature" };
  }

  const timestampedSignature = header("x-webhook-signature");
  if (timestampedSignature) {
    const timestamp = checkTimestamp(header("x-webhook-timestamp"), options);
    if (!timestamp.ok) return timestamp;
    const offered = timestampedSignature
      .split(" ")
      .filter((entry) => /^sha256=[0-9a-f]{64}$/i.test(entry))
      .map((entry) => Buffer.from(entry.slice(7), "hex"));
    for (const secret of secrets) {
      const expected = hmac(secret, String(timestamp.value), ".", rawBody);
      if (offered.some((candidate) => constantTimeEqual(candidate, expected))) {
        return { ok: true, format: "timestamped", timestamp: timestamp.value };
      }
    }
    return { ok: false, reason: "invalid_signature" };
  }

  const legacy = header("x-webhook-secret");
  if (legacy && options.allowLegacyBodyOnly) {
    if (!/^[0-9a-f]{64}$/i.test(legacy)) return { ok: false, reason: "invalid_signature" };
    const offered = Buffer.from(legacy, "hex");
    for (const secret of secrets) {
      if (constantTimeEqual(offered, hmac(secret, rawBody))) return { ok: true, format: "legacy" };
    }
    return { ok: false, reason: "invalid_signature" };
  }
  return { ok: false, reason: "missing_signature" };
}

export class WebhookVerificationError extends Error {
  constructor(readonly reason: VerifyFailure) {
    super(`Webhook verification failed: ${reason}`);
    this.name = "WebhookVerificationError";
  }
}

/** Throws WebhookVerificationError unless the webhook verifies. */
export function assertValidWebhook(...args: Parameters<typeof verifyWebhook>): Extract<VerifyResult, { ok: true }> {
  const result = verifyWebhook(...args);
  if (!result.ok) throw new WebhookVerificationError(result.reason);
  return result;
}
