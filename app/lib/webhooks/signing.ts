import { createHmac, timingSafeEqual } from "node:crypto";
import { parseWebhookSecret } from "./secrets";

/**
 * Signing and verifying Echo webhooks. Pure functions over node:crypto (plus secrets.ts,
 * itself node:crypto only), so receivers can copy these two files as they are.
 *
 * Echo signs every request three ways, so any receiver can verify it:
 *
 * 1. Standard Webhooks (https://www.standardwebhooks.com), preferred:
 *      webhook-id: <message id>            (Echo: the delivery id, stable across retries)
 *      webhook-timestamp: <unix seconds>
 *      webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">
 *    keyed with the base64-decoded part of the `whsec_…` secret.
 * 2. Timestamped:
 *      X-Webhook-Timestamp: <unix seconds>
 *      X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
 * 3. Legacy, the original contract:
 *      X-Webhook-Secret: <hex HMAC-SHA256 of the body>
 *    It has no timestamp, so a captured request can be replayed forever; verifyWebhook
 *    accepts it only with `allowLegacyBodyOnly: true`.
 *
 * Forms 2 and 3 are keyed with the UTF-8 bytes of the whole secret string, `whsec_` prefix
 * included, not with the decoded key: that is what the original contract's receivers
 * already compute (`createHmac("sha256", secret)`), and changing it would break them.
 *
 * During a secret rotation, forms 1 and 2 carry one signature per secret, space-separated
 * (`v1,abc v1,def`, `sha256=abc sha256=def`), current secret first; form 3 carries the
 * current secret's only. The body must be the exact bytes sent: verify before parsing JSON.
 */

export const WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
  legacyTimestamp: "x-webhook-timestamp",
  legacySignature: "x-webhook-signature",
  legacyBodySignature: "x-webhook-secret",
} as const;

/** Seconds either side of now that a timestamp may be; as in the Standard Webhooks libraries. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookBody = string | Uint8Array;

export type SignatureInput = {
  /** The exact body bytes sent; a string is signed as its UTF-8 bytes. */
  body: WebhookBody;
  /** The message id: Echo uses the delivery id, stable across retries so receivers can deduplicate. */
  id: string;
  /** Unix seconds, a non-negative integer. */
  timestamp: number;
  /** Current secret first, then any still in their rotation grace period. At least one. */
  secrets: readonly string[];
};

/** Header names are lower-case; HTTP header names are case-insensitive. */
export type SignatureHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
  "x-webhook-timestamp": string;
  "x-webhook-signature": string;
  "x-webhook-secret": string;
};

// Visible ASCII without spaces or dots, so the signed "<id>.<timestamp>.<body>" stays unambiguous.
const MESSAGE_ID = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;
const STANDARD_ENTRY = /^v1,([A-Za-z0-9+/]{43}=)$/;
const TIMESTAMPED_ENTRY = /^sha256=([0-9a-fA-F]{64})$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

function hmac(key: Uint8Array | string, parts: readonly WebhookBody[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** `v1,<base64>` for one secret. */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: WebhookBody): string {
  return `v1,${hmac(parseWebhookSecret(secret), [id, ".", String(timestamp), ".", body]).toString("base64")}`;
}

/** `sha256=<hex>` for one secret; key = the secret string's UTF-8 bytes. */
export function signTimestamped(secret: string, timestamp: number, body: WebhookBody): string {
  return `sha256=${hmac(secret, [String(timestamp), ".", body]).toString("hex")}`;
}

/** The legacy `X-Webhook-Secret` value: hex HMAC of the body alone; key = the secret string's UTF-8 bytes. */
export function signLegacyBody(secret: string, body: WebhookBody): string {
  return hmac(secret, [body]).toString("hex");
}

function assertSecrets(secrets: readonly string[]): void {
  if (secrets.length === 0) throw new TypeError("At least one webhook secret is needed to sign or verify.");
  // Throws InvalidWebhookSecretError (never echoing the secret) for any malformed one.
  secrets.forEach((secret) => parseWebhookSecret(secret));
}

/**
 * The signature headers for one attempt. Throws on a programming error: no secrets, a
 * malformed secret, an id with spaces or dots, or a timestamp that is not whole seconds.
 */
export function buildSignatureHeaders({ body, id, timestamp, secrets }: SignatureInput): SignatureHeaders {
  assertSecrets(secrets);
  if (!MESSAGE_ID.test(id)) {
    throw new TypeError("A webhook id is 1 to 256 visible ASCII characters, without spaces or dots.");
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || !TIMESTAMP.test(String(timestamp))) {
    throw new TypeError("A webhook timestamp is a whole number of seconds since 1970.");
  }
  const ts = String(timestamp);
  return {
    "webhook-id": id,
    "webhook-timestamp": ts,
    "webhook-signature": secrets.map((secret) => signStandardWebhook(secret, id, timestamp, body)).join(" "),
    "x-webhook-timestamp": ts,
    "x-webhook-signature": secrets.map((secret) => signTimestamped(secret, timestamp, body)).join(" "),
    "x-webhook-secret": signLegacyBody(secrets[0]!, body),
  };
}

export type WebhookFormat = "standard-webhooks" | "timestamped" | "legacy";

export type VerifyFailureReason =
  /** None of the signature headers is present. */
  | "missing_signature"
  /** `webhook-signature` is present but `webhook-id` is not. */
  | "missing_id"
  /** The signature's timestamp header is absent. */
  | "missing_timestamp"
  /** The timestamp is not a whole number of seconds. */
  | "invalid_timestamp"
  /** The timestamp is older than the tolerance: possibly a replay. */
  | "stale_timestamp"
  /** The timestamp is further ahead than the tolerance. */
  | "future_timestamp"
  /** The signature header holds no entry in a form this verifier reads (`v1,<base64>`, `sha256=<hex>`). */
  | "malformed_signature"
  /** Well-formed, but no signature matches any of the secrets: wrong secret or tampered body. */
  | "invalid_signature"
  /** Only `X-Webhook-Secret` was sent, and the caller did not opt in to the legacy form. */
  | "legacy_not_allowed";

export type VerifySuccess =
  | { ok: true; format: "standard-webhooks"; id: string; timestamp: number }
  | { ok: true; format: "timestamped"; timestamp: number }
  | { ok: true; format: "legacy" };

export type VerifyResult = VerifySuccess | { ok: false; reason: VerifyFailureReason };

export type VerifyOptions = {
  /** How far the timestamp may be from now, either way, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Now, as unix seconds or a Date; defaults to the clock. */
  now?: number | Date;
  /** Accept `X-Webhook-Secret` alone (body-only HMAC, no replay protection). Off by default. */
  allowLegacyBodyOnly?: boolean;
};

/** A Fetch `Headers`, Node's `req.headers`, or any plain object; names are matched case-insensitively. */
export type HeaderSource = Headers | Record<string, string | readonly string[] | undefined>;

function headerReader(headers: HeaderSource): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (name) => (headers as Headers).get(name)?.trim() || undefined;
  }
  const byName = new Map<string, string>();
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (value === undefined) continue;
    const joined = typeof value === "string" ? value : value.join(", ");
    const name = key.toLowerCase();
    // Repeated header lines (or keys differing only in case) combine, as HTTP does.
    byName.set(name, byName.has(name) ? `${byName.get(name)}, ${joined}` : joined);
  }
  return (name) => byName.get(name)?.trim() || undefined;
}

/** Space-separated entries; a trailing comma comes from repeated header lines being joined with ", ". */
function entries(value: string): string[] {
  return value
    .split(/\s+/)
    .map((entry) => entry.replace(/,$/, ""))
    .filter(Boolean);
}

function decodeEntries(value: string, pattern: RegExp, encoding: "base64" | "hex"): Buffer[] {
  const decoded: Buffer[] = [];
  for (const entry of entries(value)) {
    const match = pattern.exec(entry);
    if (!match) continue;
    const bytes = Buffer.from(match[1]!, encoding);
    // Only the canonical base64 of a digest counts, so a signature has exactly one spelling.
    if (encoding === "base64" && bytes.toString("base64") !== match[1]) continue;
    decoded.push(bytes);
  }
  return decoded;
}

/** Constant-time for equal lengths; unequal lengths (which reveal nothing secret) are just unequal. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Compares every offered signature with every expected one, so timing does not reveal which matched. */
function anyMatch(offered: readonly Buffer[], expected: readonly Buffer[]): boolean {
  let matched = false;
  for (const candidate of offered) {
    for (const signature of expected) matched = constantTimeEqual(candidate, signature) || matched;
  }
  return matched;
}

function nowInSeconds(now: VerifyOptions["now"]): number {
  if (now instanceof Date) return Math.floor(now.getTime() / 1000);
  return now ?? Math.floor(Date.now() / 1000);
}

function checkTimestamp(
  raw: string | undefined,
  options: VerifyOptions,
): { ok: true; value: number } | { ok: false; reason: VerifyFailureReason } {
  if (raw === undefined) return { ok: false, reason: "missing_timestamp" };
  if (!TIMESTAMP.test(raw)) return { ok: false, reason: "invalid_timestamp" };
  const value = Number(raw);
  const now = nowInSeconds(options.now);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (value < now - tolerance) return { ok: false, reason: "stale_timestamp" };
  if (value > now + tolerance) return { ok: false, reason: "future_timestamp" };
  return { ok: true, value };
}

function checkOptions(options: VerifyOptions): void {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new RangeError("toleranceSeconds must be 0 or more.");
  if (options.now !== undefined && !Number.isFinite(nowInSeconds(options.now))) {
    throw new RangeError("now must be a valid Date or unix seconds.");
  }
}

/**
 * Verifies an Echo webhook. Pass the raw body exactly as received (before JSON parsing), the
 * request headers, and the secrets to accept: during a rotation, both the new and the old.
 *
 * The first format present decides, and a failure there is final: `webhook-signature`
 * (Standard Webhooks), then `X-Webhook-Signature`, then `X-Webhook-Secret` (only with
 * `allowLegacyBodyOnly`). Problems with the request are returned as `{ ok: false, reason }`;
 * problems with the caller's configuration (no secrets, a malformed secret, a negative
 * tolerance) throw, so they cannot pass for a bad request.
 *
 * A valid signature within the tolerance can still be a replay inside that window:
 * receivers that must act once should also remember the `webhook-id`s they have handled.
 */
export function verifyWebhook(
  rawBody: WebhookBody,
  headers: HeaderSource,
  secrets: readonly string[],
  options: VerifyOptions = {},
): VerifyResult {
  assertSecrets(secrets);
  checkOptions(options);
  const header = headerReader(headers);

  const standard = header(WEBHOOK_HEADERS.signature);
  if (standard !== undefined) {
    const id = header(WEBHOOK_HEADERS.id);
    if (id === undefined) return { ok: false, reason: "missing_id" };
    const timestamp = checkTimestamp(header(WEBHOOK_HEADERS.timestamp), options);
    if (!timestamp.ok) return timestamp;
    const offered = decodeEntries(standard, STANDARD_ENTRY, "base64");
    if (offered.length === 0) return { ok: false, reason: "malformed_signature" };
    const expected = secrets.map((secret) =>
      hmac(parseWebhookSecret(secret), [id, ".", String(timestamp.value), ".", rawBody]),
    );
    return anyMatch(offered, expected)
      ? { ok: true, format: "standard-webhooks", id, timestamp: timestamp.value }
      : { ok: false, reason: "invalid_signature" };
  }

  const timestamped = header(WEBHOOK_HEADERS.legacySignature);
  if (timestamped !== undefined) {
    const timestamp = checkTimestamp(header(WEBHOOK_HEADERS.legacyTimestamp), options);
    if (!timestamp.ok) return timestamp;
    const offered = decodeEntries(timestamped, TIMESTAMPED_ENTRY, "hex");
    if (offered.length === 0) return { ok: false, reason: "malformed_signature" };
    const expected = secrets.map((secret) => hmac(secret, [String(timestamp.value), ".", rawBody]));
    return anyMatch(offered, expected)
      ? { ok: true, format: "timestamped", timestamp: timestamp.value }
      : { ok: false, reason: "invalid_signature" };
  }

  const legacy = header(WEBHOOK_HEADERS.legacyBodySignature);
  if (legacy !== undefined) {
    if (!options.allowLegacyBodyOnly) return { ok: false, reason: "legacy_not_allowed" };
    const offered = entries(legacy)
      .filter((entry) => HEX_DIGEST.test(entry))
      .map((entry) => Buffer.from(entry, "hex"));
    if (offered.length === 0) return { ok: false, reason: "malformed_signature" };
    const expected = secrets.map((secret) => hmac(secret, [rawBody]));
    return anyMatch(offered, expected) ? { ok: true, format: "legacy" } : { ok: false, reason: "invalid_signature" };
  }

  return { ok: false, reason: "missing_signature" };
}

export class WebhookVerificationError extends Error {
  readonly reason: VerifyFailureReason;
  constructor(reason: VerifyFailureReason) {
    super(`Webhook verification failed: ${reason}`);
    this.name = "WebhookVerificationError";
    this.reason = reason;
  }
}

/** verifyWebhook that throws WebhookVerificationError (with the reason) instead of returning a failure. */
export function assertValidWebhook(
  rawBody: WebhookBody,
  headers: HeaderSource,
  secrets: readonly string[],
  options: VerifyOptions = {},
): VerifySuccess {
  const result = verifyWebhook(rawBody, headers, secrets, options);
  if (!result.ok) throw new WebhookVerificationError(result.reason);
  return result;
}
