import { randomBytes } from "node:crypto";

/**
 * Webhook signing secrets in the Standard Webhooks form: `whsec_` followed by the base64 of
 * the key bytes. Echo generates 32 random bytes; secrets from elsewhere (Svix issues 24
 * bytes, as in the spec's example) are accepted between 24 and 64 bytes.
 *
 * Only the Standard Webhooks signature uses the decoded key; the `X-Webhook-Signature` and
 * `X-Webhook-Secret` headers are keyed with the whole secret string (see signing.ts).
 * Depends on node:crypto only, so receivers may copy it together with signing.ts.
 */

export const WEBHOOK_SECRET_PREFIX = "whsec_";
export const WEBHOOK_SECRET_BYTES = 32;
export const MIN_WEBHOOK_KEY_BYTES = 24;
export const MAX_WEBHOOK_KEY_BYTES = 64;

// Canonical, padded standard base64 (not base64url): what Buffer#toString("base64") produces.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type InvalidWebhookSecretReason = "missing_prefix" | "not_base64" | "wrong_length";

const MESSAGES: Record<InvalidWebhookSecretReason, string> = {
  missing_prefix: `A webhook secret starts with "${WEBHOOK_SECRET_PREFIX}".`,
  not_base64: `The part after "${WEBHOOK_SECRET_PREFIX}" must be standard, padded base64.`,
  wrong_length: `A webhook secret's key must be ${MIN_WEBHOOK_KEY_BYTES} to ${MAX_WEBHOOK_KEY_BYTES} bytes.`,
};

/** A secret that is not `whsec_<base64>`. The message never contains the secret itself. */
export class InvalidWebhookSecretError extends Error {
  readonly reason: InvalidWebhookSecretReason;
  constructor(reason: InvalidWebhookSecretReason, context?: string) {
    super(context ? `${context}: ${MESSAGES[reason]}` : MESSAGES[reason]);
    this.name = "InvalidWebhookSecretError";
    this.reason = reason;
  }
}

/** A new secret: `whsec_` + base64 of 32 bytes from the OS's CSPRNG (50 characters). */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(WEBHOOK_SECRET_BYTES).toString("base64")}`;
}

/**
 * The HMAC key of the Standard Webhooks signature: the base64-decoded part after `whsec_`.
 * Throws InvalidWebhookSecretError when the secret is malformed.
 */
export function parseWebhookSecret(secret: string): Buffer {
  if (typeof secret !== "string" || !secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw new InvalidWebhookSecretError("missing_prefix");
  }
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) throw new InvalidWebhookSecretError("not_base64");
  const key = Buffer.from(encoded, "base64");
  // Rejects encodings with stray low bits in the last character, which decode to the same key.
  if (key.toString("base64") !== encoded) throw new InvalidWebhookSecretError("not_base64");
  if (key.length < MIN_WEBHOOK_KEY_BYTES || key.length > MAX_WEBHOOK_KEY_BYTES) {
    throw new InvalidWebhookSecretError("wrong_length");
  }
  return key;
}

/** The name the delivery engine used first; same function. */
export const webhookSecretKey = parseWebhookSecret;

export function isValidWebhookSecret(secret: string): boolean {
  try {
    parseWebhookSecret(secret);
    return true;
  } catch (error) {
    if (error instanceof InvalidWebhookSecretError) return false;
    throw error;
  }
}
