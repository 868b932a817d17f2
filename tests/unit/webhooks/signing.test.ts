import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret, isValidWebhookSecret, webhookSecretKey } from "~/lib/webhooks/secrets";
import {
  assertValidWebhook,
  buildSignatureHeaders,
  verifyWebhook,
  WebhookVerificationError,
} from "~/lib/webhooks/signing";

const NOW = 1_700_000_000;
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function signed(body: string, secrets = [secret], timestamp = NOW, id = "msg_1") {
  return buildSignatureHeaders({ body, id, timestamp, secrets });
}

describe("webhook secrets", () => {
  it("are whsec_ + base64 of 32 random bytes", () => {
    const generated = generateWebhookSecret();
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(generated)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(generated);
  });

  it("reject malformed secrets", () => {
    for (const bad of ["", "secret", "whsec_", "whsec_!!!!", "whsec_c2hvcnQ="])
      expect(isValidWebhookSecret(bad)).toBe(false);
  });
});

describe("buildSignatureHeaders", () => {
  it("matches the Standard Webhooks reference vector", () => {
    const headers = buildSignatureHeaders({
      body: '{"test": 2432232314}',
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: 1614265330,
      secrets: [secret],
    });
    expect(headers["webhook-signature"]).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("signs the legacy and timestamped forms with the secret string's bytes", () => {
    const body = '{"event":"integration.connected"}';
    const headers = signed(body);
    expect(headers["x-webhook-secret"]).toBe(createHmac("sha256", secret).update(body).digest("hex"));
    expect(headers["x-webhook-signature"]).toBe(
      `sha256=${createHmac("sha256", secret).update(`${NOW}.${body}`).digest("hex")}`,
    );
    expect(headers["x-webhook-timestamp"]).toBe(String(NOW));
  });

  it("signs with every secret during a rotation, space-separated", () => {
    const headers = signed("{}", [secret, generateWebhookSecret()]);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(headers["x-webhook-signature"]!.split(" ")).toHaveLength(2);
  });

  it("sends no signature headers without a secret", () => {
    expect(signed("{}", [])).toEqual({});
  });
});

describe("verifyWebhook", () => {
  const body = '{"hello":"world"}';
  const options = { now: NOW };

  it("accepts each format Echo sends", () => {
    const headers = signed(body);
    expect(verifyWebhook(body, headers, [secret], options)).toMatchObject({ ok: true, format: "standard-webhooks" });
    const { "webhook-signature": _s, "webhook-id": _i, "webhook-timestamp": _t, ...rest } = headers;
    expect(verifyWebhook(body, rest, [secret], options)).toMatchObject({ ok: true, format: "timestamped" });
    expect(
      verifyWebhook(body, { "x-webhook-secret": headers["x-webhook-secret"]! }, [secret], {
        ...options,
        allowLegacyBodyOnly: true,
      }),
    ).toMatchObject({
      ok: true,
      format: "legacy",
    });
  });

  it("reads headers case-insensitively, from objects and Headers", () => {
    const headers = Object.fromEntries(Object.entries(signed(body)).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(body, headers, [secret], options).ok).toBe(true);
    expect(verifyWebhook(body, new Headers(signed(body)), [secret], options).ok).toBe(true);
  });

  it("accepts either the old or the new secret during a rotation", () => {
    const next = generateWebhookSecret();
    const headers = signed(body, [next, secret]);
    expect(verifyWebhook(body, headers, [secret], options).ok).toBe(true);
    expect(verifyWebhook(body, headers, [next], options).ok).toBe(true);
  });

  it("rejects a tampered body", () => {
    expect(verifyWebhook(body.replace("world", "w0rld"), signed(body), [secret], options)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("rejects the wrong secret", () => {
    expect(verifyWebhook(body, signed(body), [generateWebhookSecret()], options)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("rejects a stale timestamp", () => {
    expect(verifyWebhook(body, signed(body, [secret], NOW - 301), [secret], options)).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
  });

  it("rejects a timestamp from the future", () => {
    expect(verifyWebhook(body, signed(body, [secret], NOW + 301), [secret], options)).toEqual({
      ok: false,
      reason: "future_timestamp",
    });
  });

  it("rejects a missing id", () => {
    const { "webhook-id": _id, ...headers } = signed(body);
    expect(verifyWebhook(body, headers, [secret], options)).toEqual({ ok: false, reason: "missing_id" });
  });

  it("rejects a missing or malformed timestamp", () => {
    const { "webhook-timestamp": _ts, ...headers } = signed(body);
    expect(verifyWebhook(body, headers, [secret], options)).toEqual({ ok: false, reason: "missing_timestamp" });
    expect(verifyWebhook(body, { ...signed(body), "webhook-timestamp": "12abc" }, [secret], options)).toEqual({
      ok: false,
      reason: "invalid_timestamp",
    });
  });

  it("rejects a replayed signature with a new timestamp", () => {
    const headers = { ...signed(body), "webhook-timestamp": String(NOW + 10) };
    expect(verifyWebhook(body, headers, [secret], options)).toEqual({ ok: false, reason: "invalid_signature" });
  });

  it("rejects no signature, and the legacy header unless opted in", () => {
    expect(verifyWebhook(body, {}, [secret], options)).toEqual({ ok: false, reason: "missing_signature" });
    expect(verifyWebhook(body, { "x-webhook-secret": signed(body)["x-webhook-secret"]! }, [secret], options)).toEqual({
      ok: false,
      reason: "missing_signature",
    });
  });

  it("rejects malformed signatures without throwing", () => {
    expect(verifyWebhook(body, { ...signed(body), "webhook-signature": "v1,***" }, [secret], options)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
    expect(verifyWebhook(body, { ...signed(body), "webhook-signature": "garbage" }, [secret], options)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("assertValidWebhook throws a typed error", () => {
    expect(() => assertValidWebhook(body, {}, [secret], options)).toThrow(WebhookVerificationError);
  });

  it("round-trips any body, and any single-byte change fails", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.nat(), (text, position) => {
        const headers = signed(text);
        expect(verifyWebhook(text, headers, [secret], options).ok).toBe(true);
        const bytes = Buffer.from(text);
        const index = position % bytes.length;
        bytes[index] = bytes[index]! ^ 0x01;
        expect(verifyWebhook(bytes, headers, [secret], options).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
