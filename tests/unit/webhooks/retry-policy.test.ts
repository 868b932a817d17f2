import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ATTEMPT_SCHEDULE_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_RETRY_DELAYS_MS,
  DeliverySettingsSchema,
  MAX_RETRY_AFTER_MS,
  MAX_RETRY_DELAY_MS,
  classifyAttempt,
  computeNextAttemptAt,
  parseRetryAfter,
  plannedRetryDelayMs,
  retryDelayMs,
} from "~/lib/webhooks/retry-policy";

const now = new Date("2026-11-22T12:00:00Z");
const noJitter = () => 0.5;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe("classifyAttempt", () => {
  it.each([200, 201, 202, 204, 299])("treats %i as delivered", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "success" }),
  );

  it.each([500, 501, 502, 503, 504, 599])("retries the server error %i", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "retryable" }),
  );

  it.each([408, 425, 429])("retries %i (timeout, too early, rate limited)", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "retryable" }),
  );

  it.each([400, 401, 403, 404, 405, 409, 413, 415, 422, 451, 499])("fails %i at once, endpoint kept", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "permanent", disableEndpoint: false }),
  );

  it("fails 410 Gone at once and disables the endpoint", () =>
    expect(classifyAttempt({ status: 410 })).toEqual({ kind: "permanent", disableEndpoint: true }));

  it.each([100, 199, 300, 301, 302, 307, 308])("fails %i at once: Echo does not follow redirects", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "permanent", disableEndpoint: false }),
  );

  it.each([0, 99, 600, 999, 200.5, Number.NaN])("retries the nonsensical status %s", (status) =>
    expect(classifyAttempt({ status })).toEqual({ kind: "retryable" }),
  );

  it("retries a timeout", () => expect(classifyAttempt({ error: "timeout" })).toEqual({ kind: "retryable" }));

  it("retries a connection error", () =>
    expect(classifyAttempt({ error: "connection" })).toEqual({ kind: "retryable" }));

  it("fails a refused address at once without disabling the endpoint", () =>
    expect(classifyAttempt({ error: "refused_address" })).toEqual({ kind: "permanent", disableEndpoint: false }));

  it("puts every status from 100 to 599 in exactly the documented class", () => {
    for (let status = 100; status <= 599; status++) {
      const verdict = classifyAttempt({ status });
      const expected =
        status >= 200 && status < 300
          ? "success"
          : status >= 500 || [408, 425, 429].includes(status)
            ? "retryable"
            : "permanent";
      expect(verdict.kind, `status ${status}`).toBe(expected);
      if (verdict.kind === "permanent") expect(verdict.disableEndpoint).toBe(status === 410);
    }
  });
});

describe("the default schedule", () => {
  it("is immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(DEFAULT_ATTEMPT_SCHEDULE_MS).toEqual([
      0,
      5 * SECOND,
      5 * MINUTE,
      30 * MINUTE,
      2 * HOUR,
      5 * HOUR,
      10 * HOUR,
      10 * HOUR,
    ]);
    expect(DEFAULT_MAX_RETRIES).toBe(7);
  });

  it("gives those delays, retry by retry, without jitter", () => {
    const delays = Array.from({ length: 7 }, (_, i) => retryDelayMs({ retryNumber: i + 1, random: noJitter }));
    expect(delays).toEqual([...DEFAULT_RETRY_DELAYS_MS]);
  });

  it("repeats the last delay beyond seven retries", () => {
    expect(retryDelayMs({ retryNumber: 8, random: noJitter })).toBe(10 * HOUR);
    expect(retryDelayMs({ retryNumber: 10, random: noJitter })).toBe(10 * HOUR);
  });

  it("treats a retry number below 1 as the first retry rather than failing after the request went out", () => {
    expect(plannedRetryDelayMs(0)).toBe(5 * SECOND);
    expect(plannedRetryDelayMs(Number.NaN)).toBe(5 * SECOND);
  });
});

describe("jitter", () => {
  it("spans -20% to +20%", () => {
    expect(retryDelayMs({ retryNumber: 1, random: () => 0 })).toBe(4_000);
    expect(retryDelayMs({ retryNumber: 1, random: () => 0.999999 })).toBe(6_000);
    expect(retryDelayMs({ retryNumber: 2, random: () => 0.25 })).toBe(270_000);
  });

  it("stays within ±20% of the plan for any draw, retry and base", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 12 }),
        fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }),
        (draw, retryNumber, baseDelayMs) => {
          const planned = plannedRetryDelayMs(retryNumber, baseDelayMs);
          const delay = retryDelayMs({ retryNumber, baseDelayMs, random: () => draw });
          expect(delay).toBeGreaterThanOrEqual(Math.floor(planned * 0.8));
          expect(delay).toBeLessThanOrEqual(Math.ceil(planned * 1.2));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it("clamps a random source that strays outside [0, 1)", () => {
    expect(retryDelayMs({ retryNumber: 1, random: () => -3 })).toBe(4_000);
    expect(retryDelayMs({ retryNumber: 1, random: () => 7 })).toBe(6_000);
    expect(retryDelayMs({ retryNumber: 1, random: () => Number.NaN })).toBe(5_000);
  });
});

describe("base delay", () => {
  it("scales the whole schedule by base / 5 s, so it becomes the first retry's delay", () => {
    const delays = Array.from({ length: 8 }, (_, i) => plannedRetryDelayMs(i + 1, 1_000));
    expect(delays).toEqual([1 * SECOND, 1 * MINUTE, 6 * MINUTE, 24 * MINUTE, 1 * HOUR, 2 * HOUR, 2 * HOUR, 2 * HOUR]);
  });

  it("works for the tiny bases tests use", () => {
    expect([1, 2, 3].map((retry) => plannedRetryDelayMs(retry, 5))).toEqual([5, 300, 1_800]);
  });

  it("caps every planned delay at 24 h, however large the base", () => {
    expect(plannedRetryDelayMs(1, 3_600_000)).toBe(HOUR);
    expect(plannedRetryDelayMs(2, 3_600_000)).toBe(MAX_RETRY_DELAY_MS);
    expect(plannedRetryDelayMs(7, 3_600_000)).toBe(MAX_RETRY_DELAY_MS);
  });

  it("keeps the default schedule when the base is null, absent, zero, negative or not a number", () => {
    for (const base of [null, undefined, 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(plannedRetryDelayMs(2, base)).toBe(5 * MINUTE);
    }
  });
});

describe("computeNextAttemptAt", () => {
  it("schedules the retry after attempt n with the n-th delay", () => {
    expect(computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 8, now, random: noJitter })).toEqual(
      new Date(now.getTime() + 5 * SECOND),
    );
    expect(computeNextAttemptAt({ attemptNumber: 2, maxAttempts: 8, now, random: noJitter })).toEqual(
      new Date(now.getTime() + 5 * MINUTE),
    );
  });

  it("applies the base delay", () => {
    expect(
      computeNextAttemptAt({ attemptNumber: 2, maxAttempts: 8, baseDelayMs: 1_000, now, random: noJitter }),
    ).toEqual(new Date(now.getTime() + MINUTE));
  });

  it("returns null once the attempts are used up", () => {
    expect(computeNextAttemptAt({ attemptNumber: 8, maxAttempts: 8, now })).toBeNull();
    expect(computeNextAttemptAt({ attemptNumber: 9, maxAttempts: 8, now })).toBeNull();
  });

  it("with 0 retries (maxAttempts 1) never schedules another attempt", () => {
    expect(computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 1, now })).toBeNull();
  });

  it("with 10 retries schedules exactly 10 retries", () => {
    const maxAttempts = 10 + 1;
    const scheduled = Array.from({ length: 12 }, (_, i) =>
      computeNextAttemptAt({ attemptNumber: i + 1, maxAttempts, now, random: noJitter }),
    );
    expect(scheduled.filter((next) => next !== null)).toHaveLength(10);
    expect(scheduled.slice(10)).toEqual([null, null]);
  });

  it("returns null for a nonsensical attempt number rather than scheduling forever", () => {
    expect(computeNextAttemptAt({ attemptNumber: Number.NaN, maxAttempts: 8, now })).toBeNull();
  });

  it("lets Retry-After push the retry later than the schedule", () => {
    expect(
      computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 8, now, random: noJitter, retryAfter: "120" }),
    ).toEqual(new Date(now.getTime() + 120 * SECOND));
  });

  it("never lets Retry-After bring the retry earlier than the schedule", () => {
    expect(computeNextAttemptAt({ attemptNumber: 2, maxAttempts: 8, now, random: noJitter, retryAfter: "1" })).toEqual(
      new Date(now.getTime() + 5 * MINUTE),
    );
    expect(computeNextAttemptAt({ attemptNumber: 2, maxAttempts: 8, now, random: noJitter, retryAfter: "0" })).toEqual(
      new Date(now.getTime() + 5 * MINUTE),
    );
  });

  it("caps Retry-After at 24 h", () => {
    expect(
      computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 8, now, random: noJitter, retryAfter: "31536000" }),
    ).toEqual(new Date(now.getTime() + MAX_RETRY_AFTER_MS));
  });

  it("reads Retry-After as an HTTP date", () => {
    const at = new Date(now.getTime() + 2 * HOUR);
    expect(
      computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 8, now, random: noJitter, retryAfter: at.toUTCString() }),
    ).toEqual(at);
  });

  it("ignores an unreadable Retry-After", () => {
    expect(
      computeNextAttemptAt({ attemptNumber: 1, maxAttempts: 8, now, random: noJitter, retryAfter: "soon" }),
    ).toEqual(new Date(now.getTime() + 5 * SECOND));
  });

  it("is never before now and never after 24 h plus the largest jitter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }),
        fc.option(fc.oneof(fc.nat().map(String), fc.string()), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attemptNumber, baseDelayMs, retryAfter, draw) => {
          const next = computeNextAttemptAt({
            attemptNumber,
            maxAttempts: 11,
            baseDelayMs,
            retryAfter,
            now,
            random: () => draw,
          });
          expect(next).not.toBeNull();
          const delay = next!.getTime() - now.getTime();
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS * 1.2);
        },
      ),
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("30", now)).toBe(30 * SECOND);
    expect(parseRetryAfter(" 30 ", now)).toBe(30 * SECOND);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an IMF-fixdate", () => {
    expect(parseRetryAfter(new Date(now.getTime() + 90 * SECOND).toUTCString(), now)).toBe(90 * SECOND);
    expect(parseRetryAfter("Sun, 22 Nov 2026 12:10:00 GMT", now)).toBe(10 * MINUTE);
  });

  it("reads the obsolete RFC 850 and asctime dates, as GMT", () => {
    expect(parseRetryAfter("Sunday, 22-Nov-26 12:10:00 GMT", now)).toBe(10 * MINUTE);
    expect(parseRetryAfter("Sun Nov 22 12:10:00 2026", now)).toBe(10 * MINUTE);
  });

  it("gives 0 for a date in the past", () => {
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(0);
  });

  it("caps at 24 h", () => {
    expect(parseRetryAfter("999999999", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("99999999999999999999999", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it.each([undefined, null, "", "soon", "-5", "1.5", "1e3", "2026-11-22T12:10:00Z", "Sun, 22 Nov 2026 12:10:00 PST"])(
    "ignores %j",
    (value) => expect(parseRetryAfter(value, now)).toBeUndefined(),
  );
});

describe("DeliverySettingsSchema", () => {
  it("applies the defaults", () => {
    expect(DeliverySettingsSchema.parse({})).toEqual({ maxRetries: 7, retryBaseDelayMs: null, timeoutMs: 30_000 });
  });

  it("accepts the bounds", () => {
    expect(DeliverySettingsSchema.safeParse({ maxRetries: 0, retryBaseDelayMs: 1_000, timeoutMs: 5_000 }).success).toBe(
      true,
    );
    expect(
      DeliverySettingsSchema.safeParse({ maxRetries: 10, retryBaseDelayMs: 3_600_000, timeoutMs: 300_000 }).success,
    ).toBe(true);
  });

  it.each([
    [{ maxRetries: -1 }, "At least 0 retries"],
    [{ maxRetries: 11 }, "At most 10 retries"],
    [{ maxRetries: 2.5 }, "whole number"],
    [{ retryBaseDelayMs: 999 }, "at least 1 second"],
    [{ retryBaseDelayMs: 3_600_001 }, "at most 1 hour"],
    [{ timeoutMs: 4_999 }, "at least 5 seconds"],
    [{ timeoutMs: 300_001 }, "at most 300 seconds"],
    [{ timeoutMs: "30000" }, ""],
  ])("refuses %j", (input, message) => {
    const result = DeliverySettingsSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(message);
  });
});
