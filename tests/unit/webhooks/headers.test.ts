import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CustomHeadersSchema, redactHeaders } from "~/lib/webhooks/headers";

describe("custom headers", () => {
  it("accepts ordinary headers", () => {
    expect(CustomHeadersSchema.safeParse({ "X-Team": "payments", Authorization: "Bearer abc" }).success).toBe(true);
  });

  it.each([
    [{ "X-Evil": "a\r\nInjected: yes" }, "line breaks"],
    [{ "X-Evil": "a\nb" }, "line breaks"],
    [{ "X-Evil": "a\u0000b" }, "line breaks"],
    [{ "Bad Name": "x" }, "letters, digits"],
    [{ "X-Evil\r\n": "x" }, "letters, digits"],
    [{ "Content-Type": "text/plain" }, "Echo sets this header"],
    [{ "webhook-signature": "v1,forged" }, "Echo sets this header"],
    [{ "X-Webhook-Event": "forged" }, "Echo sets this header"],
    [{ Host: "internal" }, "Echo sets this header"],
  ])("refuses %j", (headers, message) => {
    const result = CustomHeadersSchema.safeParse(headers);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it("refuses more than 20 headers", () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, "v"]));
    expect(CustomHeadersSchema.safeParse(many).success).toBe(false);
  });
});

describe("redactHeaders", () => {
  it("hides signatures and credentials and keeps the rest", () => {
    expect(
      redactHeaders({
        "x-webhook-secret": "abc",
        "x-webhook-signature": "sha256=abc",
        "webhook-signature": "v1,abc",
        authorization: "Bearer abc",
        "x-webhook-event": "integration.connected",
      }),
    ).toEqual({
      "x-webhook-secret": "[redacted]",
      "x-webhook-signature": "[redacted]",
      "webhook-signature": "[redacted]",
      authorization: "[redacted]",
      "x-webhook-event": "integration.connected",
    });
  });

  it("never lets a signature value through, whatever the casing", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("X-Webhook-Secret", "WEBHOOK-SIGNATURE", "Authorization", "Cookie"),
        fc.string({ minLength: 8 }),
        (name, value) => {
          expect(Object.values(redactHeaders({ [name]: value }))).toEqual(["[redacted]"]);
        },
      ),
    );
  });
});
