import { z } from "zod";

/**
 * When, and whether, a webhook delivery is tried again. Pure: the caller passes the clock
 * and, in tests, the random source.
 *
 * Schedule. Attempt 1 goes immediately; retry n (attempt n + 1) waits
 * DEFAULT_RETRY_DELAYS_MS[n - 1] after the previous attempt ended: 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h (the full schedule including the first attempt is
 * DEFAULT_ATTEMPT_SCHEDULE_MS). Beyond seven retries the last delay repeats. An endpoint
 * allows 0 to 10 retries (default 7); a delivery's `maxAttempts` is `maxRetries + 1`.
 *
 * Base delay. An endpoint's `retryBaseDelayMs` scales every delay by
 * `retryBaseDelayMs / 5_000`, so it becomes the first retry's delay and the shape stays:
 * base 1 s gives 1 s, 1 min, 6 min, 24 min, 1 h, 2 h, 2 h. No planned delay exceeds
 * MAX_RETRY_DELAY_MS (24 h), however large the base. Null keeps the default schedule.
 *
 * Jitter. Each planned delay is multiplied by a factor uniform in [0.8, 1.2), so failures
 * that happened together do not come back together.
 *
 * Retry-After. On a retryable response, a `Retry-After` header (delta-seconds or an
 * HTTP-date) can push the retry later but never earlier than the schedule, and by at most
 * MAX_RETRY_AFTER_MS (24 h): next = now + max(scheduled delay, min(Retry-After, 24 h)).
 * A receiver cannot make Echo hammer it, nor park a delivery forever.
 */

export const DEFAULT_RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
] as const;
/** Delay before each attempt, the first being immediate. */
export const DEFAULT_ATTEMPT_SCHEDULE_MS = [0, ...DEFAULT_RETRY_DELAYS_MS] as const;
export const DEFAULT_MAX_RETRIES = DEFAULT_RETRY_DELAYS_MS.length;
export const MAX_RETRIES = 10;
export const MAX_RETRY_DELAY_MS = 24 * 3_600_000;
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
export const RETRY_JITTER = 0.2;
export const DEFAULT_TIMEOUT_MS = 30_000;

/** An endpoint's delivery settings, as entered in its form or API call. */
export const DeliverySettingsSchema = z.object({
  maxRetries: z
    .number()
    .int("Enter a whole number of retries")
    .min(0, "At least 0 retries")
    .max(MAX_RETRIES, `At most ${MAX_RETRIES} retries`)
    .default(DEFAULT_MAX_RETRIES),
  retryBaseDelayMs: z
    .number()
    .int("Enter a whole number of milliseconds")
    .min(1_000, "The base delay must be at least 1 second")
    .max(3_600_000, "The base delay must be at most 1 hour")
    .nullable()
    .default(null),
  timeoutMs: z
    .number()
    .int("Enter a whole number of milliseconds")
    .min(5_000, "The timeout must be at least 5 seconds")
    .max(300_000, "The timeout must be at most 300 seconds")
    .default(DEFAULT_TIMEOUT_MS),
});
export type DeliverySettings = z.infer<typeof DeliverySettingsSchema>;

/** What one attempt produced: an HTTP status, or no response at all. */
export type AttemptOutcome = { status: number } | { error: "timeout" | "connection" | "refused_address" };

export type AttemptVerdict =
  { kind: "success" } | { kind: "retryable" } | { kind: "permanent"; disableEndpoint: boolean };

const RETRYABLE_STATUSES = new Set([408, 425, 429]);

/**
 * - 2xx: delivered.
 * - 408, 425, 429, 5xx, a timeout or a connection error: try again later.
 * - 410 Gone: the receiver says the endpoint is gone for good; fail and disable the endpoint.
 * - Any other 4xx: fail now; the same request will be refused again.
 * - 1xx/3xx: fail now; Echo does not follow redirects (each hop would need the SSRF checks
 *   again), so the endpoint's URL needs fixing.
 * - A status outside 100–599: a broken server; try again later.
 * - An address Echo refuses to call: fail now; waiting will not make it acceptable.
 */
export function classifyAttempt(outcome: AttemptOutcome): AttemptVerdict {
  if ("error" in outcome) {
    return outcome.error === "refused_address" ? { kind: "permanent", disableEndpoint: false } : { kind: "retryable" };
  }
  const { status } = outcome;
  if (!Number.isInteger(status) || status < 100 || status > 599) return { kind: "retryable" };
  if (status >= 200 && status <= 299) return { kind: "success" };
  if (status >= 500 || RETRYABLE_STATUSES.has(status)) return { kind: "retryable" };
  return { kind: "permanent", disableEndpoint: status === 410 };
}

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE = /^[a-z]{3}, \d{2} [a-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/i;
const RFC850_DATE = /^[a-z]{6,9}, \d{2}-[a-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/i;
const ASCTIME_DATE = /^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * `Retry-After` in ms from `now`: delta-seconds or an HTTP-date, capped at 24 h; a date in
 * the past gives 0. Undefined when absent or not in either form.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  let date: number;
  if (IMF_FIXDATE.test(trimmed) || RFC850_DATE.test(trimmed)) date = Date.parse(trimmed);
  // asctime carries no zone; HTTP dates are always GMT, and Date.parse would assume local time.
  else if (ASCTIME_DATE.test(trimmed)) date = Date.parse(`${trimmed} GMT`);
  else return undefined;
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now.getTime()), MAX_RETRY_AFTER_MS);
}

/**
 * The planned delay before retry `retryNumber` (1 = the first retry), without jitter: the
 * schedule scaled by the base delay, capped at 24 h. Lenient on purpose, because the engine
 * calls this after the request went out and must still record the attempt: a retry number
 * below 1 counts as 1, and a base delay that is not a positive number counts as none.
 */
export function plannedRetryDelayMs(retryNumber: number, baseDelayMs?: number | null): number {
  const retry = Number.isFinite(retryNumber) ? Math.max(1, Math.floor(retryNumber)) : 1;
  const index = Math.min(retry, DEFAULT_RETRY_DELAYS_MS.length) - 1;
  const usableBase = baseDelayMs != null && Number.isFinite(baseDelayMs) && baseDelayMs > 0;
  const delay = DEFAULT_RETRY_DELAYS_MS[index]!;
  // Multiply before dividing: integer bases give exact delays (a 1 s base gives exactly 1 h, not 1 h and a rounding error).
  const scaled = usableBase ? (delay * baseDelayMs) / DEFAULT_RETRY_DELAYS_MS[0] : delay;
  return Math.min(scaled, MAX_RETRY_DELAY_MS);
}

/** The delay before retry `retryNumber`, with ±20% jitter, in whole ms. */
export function retryDelayMs({
  retryNumber,
  baseDelayMs,
  random = Math.random,
}: {
  retryNumber: number;
  baseDelayMs?: number | null;
  /** A number in [0, 1); out-of-range values are clamped. */
  random?: () => number;
}): number {
  const planned = plannedRetryDelayMs(retryNumber, baseDelayMs);
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.round(planned * (1 - RETRY_JITTER + 2 * RETRY_JITTER * (Number.isNaN(draw) ? 0.5 : draw)));
}

/**
 * When attempt `attemptNumber + 1` should start, after attempt `attemptNumber` (1-based)
 * failed in a retryable way at `now`; null when the delivery's `maxAttempts` are used up.
 */
export function computeNextAttemptAt({
  attemptNumber,
  maxAttempts,
  baseDelayMs,
  retryAfter,
  now,
  random,
}: {
  attemptNumber: number;
  /** Total attempts allowed: the endpoint's maxRetries + 1. */
  maxAttempts: number;
  baseDelayMs?: number | null;
  /** The response's raw `Retry-After` header, if any. */
  retryAfter?: string | null;
  now: Date;
  random?: () => number;
}): Date | null {
  if (!(attemptNumber < maxAttempts)) return null;
  const scheduled = retryDelayMs({ retryNumber: attemptNumber, baseDelayMs, random });
  const requested = parseRetryAfter(retryAfter, now) ?? 0;
  return new Date(now.getTime() + Math.max(scheduled, requested));
}
