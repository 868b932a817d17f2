import { describe, expect, it } from "vitest";
import { REDACTED, redactRunPayload } from "~/lib/runs/redact-payload";
import { deliveryRunId, deliveryRunStatus, parseRunId, taskRunStatus, triggerDevRunUrl } from "~/lib/runs/runs";
import { decodeRunCursor, encodeRunCursor } from "~/services/runs/run-cursor.server";

describe("run statuses", () => {
  it("calls a queued TaskRun that was attempted before retrying", () => {
    expect(taskRunStatus({ status: "QUEUED", attempt: 0 })).toBe("queued");
    expect(taskRunStatus({ status: "QUEUED", attempt: 1 })).toBe("retrying");
    expect(taskRunStatus({ status: "EXECUTING", attempt: 1 })).toBe("executing");
    expect(taskRunStatus({ status: "COMPLETED", attempt: 1 })).toBe("completed");
    expect(taskRunStatus({ status: "FAILED", attempt: 3 })).toBe("failed");
    expect(taskRunStatus({ status: "CANCELLED", attempt: 0 })).toBe("cancelled");
  });

  it("maps a delivery's status, and tells a cancellation from a later failure by its time", () => {
    const open = { cancelledAt: null, completedAt: null };
    expect(deliveryRunStatus({ status: "PENDING", ...open })).toBe("queued");
    expect(deliveryRunStatus({ status: "SENDING", ...open })).toBe("executing");
    expect(deliveryRunStatus({ status: "RETRYING", ...open })).toBe("retrying");
    expect(deliveryRunStatus({ status: "SUCCESS", cancelledAt: null, completedAt: new Date() })).toBe("completed");
    const at = new Date("2026-01-01T00:00:00Z");
    expect(deliveryRunStatus({ status: "FAILED", cancelledAt: null, completedAt: at })).toBe("failed");
    expect(deliveryRunStatus({ status: "FAILED", cancelledAt: at, completedAt: at })).toBe("cancelled");
    // Replayed after the cancellation, and failed again.
    expect(
      deliveryRunStatus({ status: "FAILED", cancelledAt: at, completedAt: new Date("2026-01-02T00:00:00Z") }),
    ).toBe("failed");
    // As JSON carries them.
    expect(deliveryRunStatus({ status: "FAILED", cancelledAt: at.toISOString(), completedAt: at.toISOString() })).toBe(
      "cancelled",
    );
  });
});

describe("run ids", () => {
  it("names a delivery's run delivery_<id> and anything else a TaskRun", () => {
    expect(parseRunId(deliveryRunId("abc"))).toEqual({ kind: "delivery", deliveryId: "abc" });
    expect(parseRunId("0b6f7c1e-8d1f-4d44-9a1b-5c7f3f0f1d2e")).toEqual({
      kind: "task-run",
      id: "0b6f7c1e-8d1f-4d44-9a1b-5c7f3f0f1d2e",
    });
    expect(parseRunId("delivery_")).toEqual({ kind: "task-run", id: "delivery_" });
  });

  it("links a Trigger.dev run under the dashboard's /runs/", () => {
    expect(triggerDevRunUrl("https://cloud.trigger.dev", "run_abc")).toBe("https://cloud.trigger.dev/runs/run_abc");
    expect(triggerDevRunUrl("https://trigger.example.com/", "run_a/b")).toBe(
      "https://trigger.example.com/runs/run_a%2Fb",
    );
  });
});

describe("cursors", () => {
  it("round-trips, and refuses what it did not make", () => {
    const cursor = { createdAt: new Date("2026-03-04T05:06:07.089Z"), id: "delivery-or-run|with-a-bar" };
    expect(decodeRunCursor(encodeRunCursor(cursor))).toEqual(cursor);
    for (const junk of ["", "bm9wZQ", Buffer.from("not-a-date|x").toString("base64url"), "%%%"]) {
      expect(decodeRunCursor(junk)).toBeNull();
    }
    expect(decodeRunCursor(Buffer.from("2026-01-01T00:00:00Z|a\u0000b").toString("base64url"))).toBeNull();
  });
});

describe("redactRunPayload", () => {
  it("never shows integration-run's sealed input, not even sealed", () => {
    const payload = { userId: "u1", slug: "postmark", input: "v1:sealed-ciphertext-of-an-api-key" };
    const shown = redactRunPayload("integration-run", payload) as Record<string, unknown>;
    expect(shown).toMatchObject({ userId: "u1", slug: "postmark" });
    expect(JSON.stringify(shown)).not.toContain("sealed-ciphertext");
  });

  it("hides any field named like a secret, however deep, and keeps the rest", () => {
    const shown = redactRunPayload("webhook-event-fanout", {
      eventId: "e1",
      nested: [{ apiKey: "k", api_key: "k2", headers: { Authorization: "Bearer x", "x-team": "blue" } }],
      clientSecret: "s",
      refresh_token: "t",
      password: "p",
      credentials: { user: "a" },
      emptyToken: "",
    });
    expect(shown).toEqual({
      eventId: "e1",
      nested: [{ apiKey: REDACTED, api_key: REDACTED, headers: { Authorization: REDACTED, "x-team": "blue" } }],
      clientSecret: REDACTED,
      refresh_token: REDACTED,
      password: REDACTED,
      credentials: REDACTED,
      emptyToken: "",
    });
  });

  it("leaves payloads that are not objects as they are", () => {
    expect(redactRunPayload("x", null)).toBeNull();
    expect(redactRunPayload("x", "text")).toBe("text");
    expect(redactRunPayload("x", [1, { token: "t" }])).toEqual([1, { token: REDACTED }]);
  });
});
