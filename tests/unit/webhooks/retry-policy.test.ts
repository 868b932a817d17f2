import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_RETRIES,
  DeliverySettingsSchema,
  classifyAttempt,
  computeNextAttemptAt,
  parseRetryAfter,
  retryDelayMs,
} from "~/lib/webhooks/retry-policy";

const now = new Date("2026-11-22T12:00:00Z");
const noJitter = () => 0.5;

describe("classifyAttempt", () => {
  it.each([200, 201, 204, 299])("treats %i as success", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "success" }),
  );
  it.each([500, 502, 503, 504, 408, 425, 429])("retries %i", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "retryable" }),
  );
  it.each([400, 401, 403, 404, 422, 301])("fails %i at once", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "permanent", disableEndpoint: false }),
  );
  it("fails 410 Gone at once and disables the endpoint", () =>
    expect(classifyAttempt({ status: 410 })).toEqual({ kind: "permanent", disableEndpoint: true }));
  it("retries timeouts and connection errors, not refused addresses", () => {
    expect(classifyAttempt({ error: "timeout" })).toEqual({ kind: "retryable" });
    expect(classifyAttempt({ error: "connection" })).toEqual({ kind: "retryable" });
    expect(classifyAttempt({ error: "refused_address" })).toMatchObject({ kind: "permanent" });
  });
});

describe("retry schedule", () => {
  it("follows 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default", () => {
    const delays = Array.from({ length: 7 }, (_, i) => retryDelayMs({ retryNumber: i + 1, random: noJitter }));
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(DEFAULT_MAX_RETRIES).toBe(7);
  });

  it("keeps the last delay beyond seven retries", () => {
    expect(retryDelayMs({ retryNumber: 10, random: noJitter })).toBe(36_000_000);
  });

  it("jitters by at most ±20%", () => {
    expect(retryDelayMs({ retryNumber: 1, random: () => 0 })).toBe(4_000);
    expect(retryDelayMs({ retryNumber: 1, random: () => 1 })).toBe(6_000);
  });

  it("scales the whole schedule with the endpoint's base delay", () => {
    expect(retryDelayMs({ retryNumber: 1, baseDelayMs: 1_000, random: noJitter })).toBe(1_000);
    expect(retryDelayMs({ retryNumber: 2, baseDelayMs: 1_000, random: noJitter })).toBe(60_000);
  });

  it("stops when the attempts are used up", () => {
    expect(computeNextAttemptAt({ attemptNumber: 3, maxAttempts: 3, now })).toBeNull();
    expect(computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 1, now })).toBeNull();
  });

  it("schedules the next attempt from the attempt number", () => {
    expect(computeNextAttemptAt({ attemptNumber: 2, maxAttempts: 8, now, random: noJitter })).toEqual(
      new Date(now.getTime() + 300_000),
    );
  });

  it("lets Retry-After push a retry later but never earlier", () => {
    expect(
      computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 8, now, random: noJitter, retryAfter: "120" }),
    ).toEqual(new Date(now.getTime() + 120_000));
    expect(computeNextAttemptAt({ attemptNumber: 2, maxAttempts: 8, now, random: noJitter, retryAfter: "1" })).toEqual(
      new Date(now.getTime() + 300_000),
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates, caps at 24 h, ignores garbage", () => {
    expect(parseRetryAfter("30", now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now.getTime() + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter("999999999", now)).toBe(24 * 3_600_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("DeliverySettingsSchema", () => {
  it("applies defaults and enforces the bounds", () => {
    expect(DeliverySettingsSchema.parse({})).toEqual({ maxRetries: 7, retryBaseDelayMs: null, timeoutMs: 30_000 });
    expect(DeliverySettingsSchema.safeParse({ maxRetries: 11 }).success).toBe(false);
    expect(DeliverySettingsSchema.safeParse({ timeoutMs: 4_999 }).success).toBe(false);
    expect(DeliverySettingsSchema.safeParse({ timeoutMs: 300_001 }).success).toBe(false);
    expect(DeliverySettingsSchema.safeParse({ maxRetries: 0, timeoutMs: 300_000 }).success).toBe(true);
  });
});
