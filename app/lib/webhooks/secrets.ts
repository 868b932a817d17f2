import { randomBytes } from "node:crypto";

/** Webhook signing secrets in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export const WEBHOOK_SECRET_PREFIX = "whsec_";

export class InvalidWebhookSecretError extends Error {
  constructor(message = "A webhook secret must be `whsec_` followed by base64 of 24 to 64 bytes.") {
    super(message);
    this.name = "InvalidWebhookSecretError";
  }
}

export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/** The HMAC key of the Standard Webhooks signature: the base64-decoded part after `whsec_`. */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new InvalidWebhookSecretError();
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new InvalidWebhookSecretError();
  const key = Buffer.from(encoded, "base64");
  if (key.length < 24 || key.length > 64) throw new InvalidWebhookSecretError();
  return key;
}

export function isValidWebhookSecret(secret: string): boolean {
  try {
    webhookSecretKey(secret);
    return true;
  } catch {
    return false;
  }
}
