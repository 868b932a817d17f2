import { z } from "zod";

/**
 * When a webhook is retried. The first attempt goes immediately; retries follow
 * DEFAULT_RETRY_DELAYS_MS (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each with ±20% jitter so
 * that a burst of failures does not come back as a burst. Beyond seven retries the last
 * delay repeats. An endpoint's `retryBaseDelayMs` replaces the 5 s first delay and scales
 * the whole schedule in proportion (base 1 s → 1 s, 1 min, 6 min, …).
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
export const DEFAULT_MAX_RETRIES = DEFAULT_RETRY_DELAYS_MS.length;
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
const JITTER = 0.2;

export const DeliverySettingsSchema = z.object({
  maxRetries: z.number().int().min(0, "At least 0 retries").max(10, "At most 10 retries").default(DEFAULT_MAX_RETRIES),
  retryBaseDelayMs: z
    .number()
    .int()
    .min(1_000, "The base delay must be at least 1 second")
    .max(3_600_000, "The base delay must be at most 1 hour")
    .nullable()
    .default(null),
  timeoutMs: z
    .number()
    .int()
    .min(5_000, "The timeout must be at least 5 seconds")
    .max(300_000, "The timeout must be at most 300 seconds")
    .default(30_000),
});
export type DeliverySettings = z.infer<typeof DeliverySettingsSchema>;

export type AttemptOutcome = { status: number } | { error: "timeout" | "connection" | "refused_address" };

export type AttemptVerdict =
  { kind: "success" } | { kind: "retryable" } | { kind: "permanent"; disableEndpoint: boolean };

const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export function classifyAttempt(outcome: AttemptOutcome): AttemptVerdict {
  if ("error" in outcome) {
    // An address Echo refuses to call will not become acceptable by waiting.
    return outcome.error === "refused_address" ? { kind: "permanent", disableEndpoint: false } : { kind: "retryable" };
  }
  const { status } = outcome;
  if (status >= 200 && status < 300) return { kind: "success" };
  if (status >= 500 || RETRYABLE_STATUSES.has(status)) return { kind: "retryable" };
  return { kind: "permanent", disableEndpoint: status === 410 };
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or unusable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now.getTime()), MAX_RETRY_AFTER_MS);
}

export function retryDelayMs({
  retryNumber,
  baseDelayMs,
  random = Math.random,
}: {
  /** 1 for the first retry. */
  retryNumber: number;
  baseDelayMs?: number | null;
  random?: () => number;
}): number {
  const index = Math.min(Math.max(retryNumber, 1), DEFAULT_RETRY_DELAYS_MS.length) - 1;
  const scale = baseDelayMs ? baseDelayMs / DEFAULT_RETRY_DELAYS_MS[0] : 1;
  const planned = DEFAULT_RETRY_DELAYS_MS[index]! * scale;
  return Math.round(planned * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * When attempt `attemptNumber + 1` should happen, or null when the attempts are used up.
 * A receiver's `Retry-After` can only push the retry later, never earlier, and at most 24 h.
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
  maxAttempts: number;
  baseDelayMs?: number | null;
  retryAfter?: string;
  now: Date;
  random?: () => number;
}): Date | null {
  if (attemptNumber >= maxAttempts) return null;
  const scheduled = retryDelayMs({ retryNumber: attemptNumber, baseDelayMs, random });
  const requested = parseRetryAfter(retryAfter, now) ?? 0;
  return new Date(now.getTime() + Math.max(scheduled, requested));
}
