import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret, InvalidWebhookSecretError } from "~/lib/webhooks/secrets";
import {
  assertValidWebhook,
  buildSignatureHeaders,
  signLegacyBody,
  signStandardWebhook,
  signTimestamped,
  verifyWebhook,
  WebhookVerificationError,
  type SignatureHeaders,
} from "~/lib/webhooks/signing";

const NOW = 1_700_000_000;
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = '{"event":"integration.connected","data":{"name":"Linear"}}';
const at = { now: NOW };

function signed(payload: string | Uint8Array = body, secrets = [secret], timestamp = NOW, id = "msg_1") {
  return buildSignatureHeaders({ body: payload, id, timestamp, secrets });
}

/** Only the headers of one format, as a receiver of that format would see them. */
function only(headers: SignatureHeaders, format: "standard" | "timestamped" | "legacy"): Record<string, string> {
  if (format === "standard") {
    const { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig } = headers;
    return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig };
  }
  if (format === "timestamped") {
    const { "x-webhook-timestamp": ts, "x-webhook-signature": sig } = headers;
    return { "x-webhook-timestamp": ts, "x-webhook-signature": sig };
  }
  return { "x-webhook-secret": headers["x-webhook-secret"] };
}

describe("Standard Webhooks test vector", () => {
  const vector = {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };

  it("our independent HMAC of the spec's example gives the spec's signature", () => {
    const key = Buffer.from(vector.secret.slice("whsec_".length), "base64");
    const independent = createHmac("sha256", key)
      .update(`${vector.id}.${vector.timestamp}.${vector.body}`)
      .digest("base64");
    expect(`v1,${independent}`).toBe(vector.signature);
  });

  it("buildSignatureHeaders produces it", () => {
    const headers = buildSignatureHeaders({ ...vector, secrets: [vector.secret] });
    expect(headers["webhook-signature"]).toBe(vector.signature);
    expect(headers["webhook-id"]).toBe(vector.id);
    expect(headers["webhook-timestamp"]).toBe("1614265330");
    expect(signStandardWebhook(vector.secret, vector.id, vector.timestamp, vector.body)).toBe(vector.signature);
  });

  it("verifyWebhook accepts it", () => {
    const headers = {
      "webhook-id": vector.id,
      "webhook-timestamp": String(vector.timestamp),
      "webhook-signature": vector.signature,
    };
    expect(verifyWebhook(vector.body, headers, [vector.secret], { now: vector.timestamp })).toEqual({
      ok: true,
      format: "standard-webhooks",
      id: vector.id,
      timestamp: vector.timestamp,
    });
  });
});

describe("buildSignatureHeaders", () => {
  it("signs the timestamped form over '<timestamp>.<body>' keyed with the whole secret string", () => {
    const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${NOW}.${body}`).digest("hex");
    expect(signed()["x-webhook-signature"]).toBe(`sha256=${expected}`);
    expect(signed()["x-webhook-timestamp"]).toBe(String(NOW));
    expect(signTimestamped(secret, NOW, body)).toBe(`sha256=${expected}`);
  });

  it("signs the legacy X-Webhook-Secret over the body alone keyed with the whole secret string", () => {
    const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex");
    expect(signed()["x-webhook-secret"]).toBe(expected);
    expect(signLegacyBody(secret, body)).toBe(expected);
  });

  it("sends exactly the six signature headers, lower-case", () => {
    expect(Object.keys(signed()).sort()).toEqual([
      "webhook-id",
      "webhook-signature",
      "webhook-timestamp",
      "x-webhook-secret",
      "x-webhook-signature",
      "x-webhook-timestamp",
    ]);
  });

  it("signs a string and its UTF-8 bytes identically", () => {
    const text = '{"name":"Café ☕ 日本"}';
    expect(signed(Buffer.from(text, "utf8"))).toEqual(signed(text));
    expect(signed(new Uint8Array(Buffer.from(text, "utf8")))).toEqual(signed(text));
  });

  it("during a rotation signs with every secret, current first, space-separated; the legacy header with the current only", () => {
    const previous = generateWebhookSecret();
    const headers = signed(body, [secret, previous]);
    expect(headers["webhook-signature"]).toBe(
      `${signStandardWebhook(secret, "msg_1", NOW, body)} ${signStandardWebhook(previous, "msg_1", NOW, body)}`,
    );
    expect(headers["x-webhook-signature"]).toBe(
      `${signTimestamped(secret, NOW, body)} ${signTimestamped(previous, NOW, body)}`,
    );
    expect(headers["x-webhook-signature"]).not.toContain(",");
    expect(headers["x-webhook-secret"]).toBe(signLegacyBody(secret, body));
  });

  it("refuses to sign without a secret", () => {
    expect(() => signed(body, [])).toThrow(TypeError);
  });

  it("refuses a malformed secret, in any position", () => {
    expect(() => signed(body, ["not-a-secret"])).toThrow(InvalidWebhookSecretError);
    expect(() => signed(body, [secret, "whsec_short"])).toThrow(InvalidWebhookSecretError);
  });

  it.each(["", "has space", "has.dot", "line\nbreak", "x".repeat(257)])("refuses the message id %j", (id) => {
    expect(() => signed(body, [secret], NOW, id)).toThrow(TypeError);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e13])("refuses the timestamp %s", (timestamp) => {
    expect(() => signed(body, [secret], timestamp)).toThrow(TypeError);
  });
});

describe("verifyWebhook: accepted", () => {
  it.each([
    ["standard", "standard-webhooks"],
    ["timestamped", "timestamped"],
  ] as const)("accepts the %s form on its own", (format, name) => {
    expect(verifyWebhook(body, only(signed(), format), [secret], at)).toMatchObject({ ok: true, format: name });
  });

  it("accepts the legacy form on its own when the caller opts in", () => {
    expect(verifyWebhook(body, only(signed(), "legacy"), [secret], { ...at, allowLegacyBodyOnly: true })).toEqual({
      ok: true,
      format: "legacy",
    });
  });

  it("prefers Standard Webhooks when every header is present", () => {
    expect(verifyWebhook(body, signed(), [secret], at)).toEqual({
      ok: true,
      format: "standard-webhooks",
      id: "msg_1",
      timestamp: NOW,
    });
  });

  it("prefers the timestamped form over the legacy one", () => {
    const { "x-webhook-timestamp": ts, "x-webhook-signature": sig, "x-webhook-secret": legacy } = signed();
    const headers = { "x-webhook-timestamp": ts, "x-webhook-signature": sig, "x-webhook-secret": legacy };
    expect(verifyWebhook(body, headers, [secret], { ...at, allowLegacyBodyOnly: true })).toMatchObject({
      format: "timestamped",
    });
  });

  it("reads header names case-insensitively from a plain object", () => {
    const upper = Object.fromEntries(Object.entries(signed()).map(([name, value]) => [name.toUpperCase(), value]));
    expect(verifyWebhook(body, upper, [secret], at).ok).toBe(true);
    const mixed = {
      "Webhook-Id": "msg_1",
      "Webhook-Timestamp": String(NOW),
      "Webhook-Signature": signed()["webhook-signature"],
    };
    expect(verifyWebhook(body, mixed, [secret], at).ok).toBe(true);
  });

  it("reads a Fetch Headers instance", () => {
    expect(verifyWebhook(body, new Headers(signed()), [secret], at).ok).toBe(true);
  });

  it("reads Node-style headers where a repeated header is an array", () => {
    const [current, previous] = [secret, generateWebhookSecret()];
    const { "webhook-signature": _sig, ...rest } = signed(body, [current]);
    const headers = {
      ...rest,
      "webhook-signature": [
        signStandardWebhook(previous, "msg_1", NOW, body),
        signStandardWebhook(current, "msg_1", NOW, body),
      ],
    };
    expect(verifyWebhook(body, headers, [current], at).ok).toBe(true);
  });

  it("accepts a signature repeated as header lines that Headers joined with ', '", () => {
    const headers = new Headers(only(signed(), "standard"));
    headers.set("webhook-signature", `v1,${Buffer.alloc(32).toString("base64")}`);
    headers.append("webhook-signature", signStandardWebhook(secret, "msg_1", NOW, body));
    expect(verifyWebhook(body, headers, [secret], at).ok).toBe(true);
  });

  it("accepts either secret during a rotation, whichever the receiver has", () => {
    const next = generateWebhookSecret();
    const headers = signed(body, [next, secret]);
    for (const format of ["standard", "timestamped"] as const) {
      expect(verifyWebhook(body, only(headers, format), [secret], at).ok).toBe(true);
      expect(verifyWebhook(body, only(headers, format), [next], at).ok).toBe(true);
      expect(verifyWebhook(body, only(headers, format), [next, secret], at).ok).toBe(true);
    }
  });

  it("accepts one matching signature among several, ignoring versions it does not know", () => {
    const good = signStandardWebhook(secret, "msg_1", NOW, body);
    const headers = {
      ...only(signed(), "standard"),
      "webhook-signature": `v1a,c29tZXRoaW5nIGVsc2U= v1,${Buffer.alloc(32, 1).toString("base64")}  ${good}`,
    };
    expect(verifyWebhook(body, headers, [secret], at).ok).toBe(true);
  });

  it("accepts timestamps exactly at the tolerance, either way", () => {
    for (const timestamp of [NOW - 300, NOW + 300]) {
      expect(verifyWebhook(body, signed(body, [secret], timestamp), [secret], at).ok).toBe(true);
    }
  });

  it("honours a custom tolerance and a Date for now", () => {
    const headers = signed(body, [secret], NOW - 1_000);
    expect(verifyWebhook(body, headers, [secret], { now: NOW, toleranceSeconds: 1_000 }).ok).toBe(true);
    expect(verifyWebhook(body, headers, [secret], { now: new Date((NOW - 1_000) * 1000 + 999) }).ok).toBe(true);
  });

  it("uses the clock when now is not given", () => {
    const headers = signed(body, [secret], Math.floor(Date.now() / 1000));
    expect(verifyWebhook(body, headers, [secret]).ok).toBe(true);
  });
});

describe("verifyWebhook: one test per failure mode", () => {
  const standard = () => only(signed(), "standard");
  const timestamped = () => only(signed(), "timestamped");

  it("missing_signature: no signature header at all", () => {
    expect(verifyWebhook(body, { "webhook-id": "msg_1", "webhook-timestamp": String(NOW) }, [secret], at)).toEqual({
      ok: false,
      reason: "missing_signature",
    });
    expect(verifyWebhook(body, {}, [secret], at)).toEqual({ ok: false, reason: "missing_signature" });
  });

  it("missing_id: Standard Webhooks signature without webhook-id", () => {
    const { "webhook-id": _id, ...headers } = standard();
    expect(verifyWebhook(body, headers, [secret], at)).toEqual({ ok: false, reason: "missing_id" });
  });

  it("missing_timestamp: Standard Webhooks signature without webhook-timestamp", () => {
    const { "webhook-timestamp": _ts, ...headers } = standard();
    expect(verifyWebhook(body, headers, [secret], at)).toEqual({ ok: false, reason: "missing_timestamp" });
  });

  it("missing_timestamp: X-Webhook-Signature without X-Webhook-Timestamp", () => {
    const { "x-webhook-timestamp": _ts, ...headers } = timestamped();
    expect(verifyWebhook(body, headers, [secret], at)).toEqual({ ok: false, reason: "missing_timestamp" });
  });

  it.each(["12abc", "-5", "1.5", "1e9", "0x10", "9999999999999"])("invalid_timestamp: %j", (timestamp) => {
    expect(verifyWebhook(body, { ...standard(), "webhook-timestamp": timestamp }, [secret], at)).toEqual({
      ok: false,
      reason: "invalid_timestamp",
    });
  });

  it("stale_timestamp: older than the tolerance", () => {
    expect(verifyWebhook(body, signed(body, [secret], NOW - 301), [secret], at)).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
  });

  it("future_timestamp: further ahead than the tolerance", () => {
    expect(verifyWebhook(body, signed(body, [secret], NOW + 301), [secret], at)).toEqual({
      ok: false,
      reason: "future_timestamp",
    });
  });

  it("stale_timestamp applies to the timestamped form too", () => {
    expect(verifyWebhook(body, only(signed(body, [secret], NOW - 301), "timestamped"), [secret], at)).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
  });

  it.each(["garbage", "v1,***", "v1,", "v1a,abc", `v1,${Buffer.alloc(16).toString("base64")}`, "v2,abc="])(
    "malformed_signature: webhook-signature %j",
    (signature) => {
      expect(verifyWebhook(body, { ...standard(), "webhook-signature": signature }, [secret], at)).toEqual({
        ok: false,
        reason: "malformed_signature",
      });
    },
  );

  it.each(["sha256=zz", "sha1=abcdef", "sha256=abc", `sha256=${"0".repeat(63)}`, "deadbeef"])(
    "malformed_signature: X-Webhook-Signature %j",
    (signature) => {
      expect(verifyWebhook(body, { ...timestamped(), "x-webhook-signature": signature }, [secret], at)).toEqual({
        ok: false,
        reason: "malformed_signature",
      });
    },
  );

  it("malformed_signature: X-Webhook-Secret that is not a hex digest", () => {
    expect(
      verifyWebhook(body, { "x-webhook-secret": "sha256=abc" }, [secret], { ...at, allowLegacyBodyOnly: true }),
    ).toEqual({ ok: false, reason: "malformed_signature" });
  });

  it("invalid_signature: tampered body", () => {
    expect(verifyWebhook(body.replace("Linear", "Linead"), signed(), [secret], at)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("invalid_signature: tampered body, timestamped form", () => {
    expect(verifyWebhook(`${body} `, timestamped(), [secret], at)).toEqual({ ok: false, reason: "invalid_signature" });
  });

  it("invalid_signature: tampered body, legacy form", () => {
    expect(verifyWebhook(`${body} `, only(signed(), "legacy"), [secret], { ...at, allowLegacyBodyOnly: true })).toEqual(
      { ok: false, reason: "invalid_signature" },
    );
  });

  it("invalid_signature: wrong secret", () => {
    expect(verifyWebhook(body, signed(), [generateWebhookSecret()], at)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("invalid_signature: a captured signature replayed with a fresh timestamp", () => {
    const replay = { ...standard(), "webhook-timestamp": String(NOW + 10) };
    expect(verifyWebhook(body, replay, [secret], at)).toEqual({ ok: false, reason: "invalid_signature" });
    const replayTimestamped = { ...timestamped(), "x-webhook-timestamp": String(NOW + 10) };
    expect(verifyWebhook(body, replayTimestamped, [secret], at)).toEqual({ ok: false, reason: "invalid_signature" });
  });

  it("invalid_signature: a signature moved to another message id", () => {
    expect(verifyWebhook(body, { ...standard(), "webhook-id": "msg_2" }, [secret], at)).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("invalid_signature: a failing Standard Webhooks signature does not fall back to the other forms", () => {
    const headers = { ...signed(), "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}` };
    expect(verifyWebhook(body, headers, [secret], { ...at, allowLegacyBodyOnly: true })).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
  });

  it("legacy_not_allowed: X-Webhook-Secret alone, without opting in", () => {
    expect(verifyWebhook(body, only(signed(), "legacy"), [secret], at)).toEqual({
      ok: false,
      reason: "legacy_not_allowed",
    });
  });
});

describe("verifyWebhook: configuration errors throw", () => {
  it("throws without secrets", () => {
    expect(() => verifyWebhook(body, signed(), [], at)).toThrow(TypeError);
  });

  it("throws on a malformed secret instead of calling the request bad", () => {
    expect(() => verifyWebhook(body, signed(), ["hunter2"], at)).toThrow(InvalidWebhookSecretError);
  });

  it("throws on a negative or non-finite tolerance, or an invalid now", () => {
    expect(() => verifyWebhook(body, signed(), [secret], { now: NOW, toleranceSeconds: -1 })).toThrow(RangeError);
    expect(() => verifyWebhook(body, signed(), [secret], { now: NOW, toleranceSeconds: Number.NaN })).toThrow(
      RangeError,
    );
    expect(() => verifyWebhook(body, signed(), [secret], { now: new Date("nope") })).toThrow(RangeError);
  });
});

describe("assertValidWebhook", () => {
  it("returns the verified result", () => {
    expect(assertValidWebhook(body, signed(), [secret], at)).toMatchObject({ ok: true, format: "standard-webhooks" });
  });

  it("throws WebhookVerificationError carrying the reason", () => {
    expect(() => assertValidWebhook(body, {}, [secret], at)).toThrow(WebhookVerificationError);
    try {
      assertValidWebhook(body, signed(body, [secret], NOW - 1_000), [secret], at);
      expect.unreachable();
    } catch (error) {
      expect((error as WebhookVerificationError).reason).toBe("stale_timestamp");
      expect((error as Error).message).toContain("stale_timestamp");
    }
  });
});

describe("properties", () => {
  const secrets = fc
    .uint8Array({ minLength: 24, maxLength: 64 })
    .map((bytes) => `whsec_${Buffer.from(bytes).toString("base64")}`);
  const ids = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  const timestamps = fc.integer({ min: 0, max: 4_000_000_000 });
  const bodies = fc.oneof(fc.string({ unit: "binary", maxLength: 500 }), fc.uint8Array({ maxLength: 500 }));

  it("any body, secret, id and timestamp round-trips through sign and verify, in every form", () => {
    fc.assert(
      fc.property(bodies, secrets, ids, timestamps, (payload, key, id, timestamp) => {
        const headers = buildSignatureHeaders({ body: payload, id, timestamp, secrets: [key] });
        const options = { now: timestamp, allowLegacyBodyOnly: true };
        expect(verifyWebhook(payload, headers, [key], options)).toMatchObject({
          ok: true,
          format: "standard-webhooks",
        });
        expect(verifyWebhook(payload, only(headers, "timestamped"), [key], options).ok).toBe(true);
        expect(verifyWebhook(payload, only(headers, "legacy"), [key], options).ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("any single-byte change to the body fails, in every form", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, position, flip) => {
          const payload = Buffer.from(bytes);
          const headers = buildSignatureHeaders({ body: payload, id: "msg_1", timestamp: NOW, secrets: [secret] });
          const tampered = Buffer.from(payload);
          const index = position % tampered.length;
          tampered[index] = tampered[index]! ^ flip;
          const options = { ...at, allowLegacyBodyOnly: true };
          for (const format of ["standard", "timestamped", "legacy"] as const) {
            expect(verifyWebhook(tampered, only(headers, format), [secret], options)).toEqual({
              ok: false,
              reason: "invalid_signature",
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("any truncation or extension of the body fails", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 5 }),
        (text, extra) => {
          const headers = signed(text);
          expect(verifyWebhook(text.slice(0, -1), headers, [secret], at).ok).toBe(false);
          expect(verifyWebhook(text + extra, headers, [secret], at).ok).toBe(false);
        },
      ),
    );
  });

  it("any change to one character of the signature fails and never throws", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=,v ";
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...alphabet), (position, replacement) => {
        const headers = only(signed(), "standard");
        const signature = headers["webhook-signature"]!;
        const index = position % signature.length;
        fc.pre(signature[index] !== replacement);
        const forged = signature.slice(0, index) + replacement + signature.slice(index + 1);
        const result = verifyWebhook(body, { ...headers, "webhook-signature": forged }, [secret], at);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
