import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateWebhookSecret,
  InvalidWebhookSecretError,
  isValidWebhookSecret,
  parseWebhookSecret,
  webhookSecretKey,
} from "~/lib/webhooks/secrets";

const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function reasonFor(secret: string): string | undefined {
  try {
    parseWebhookSecret(secret);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidWebhookSecretError);
    return (error as InvalidWebhookSecretError).reason;
  }
}

describe("generateWebhookSecret", () => {
  it("is whsec_ followed by the base64 of 32 random bytes", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(parseWebhookSecret(secret)).toHaveLength(32);
  });

  it("never repeats", () => {
    const secrets = new Set(Array.from({ length: 200 }, () => generateWebhookSecret()));
    expect(secrets.size).toBe(200);
  });
});

describe("parseWebhookSecret", () => {
  it("decodes the part after whsec_ as the key (Standard Webhooks rule)", () => {
    const key = parseWebhookSecret(SPEC_SECRET);
    expect(key).toEqual(Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64"));
    expect(key).toHaveLength(24);
  });

  it("is also exported under the engine's original name", () => {
    expect(webhookSecretKey).toBe(parseWebhookSecret);
  });

  it("round-trips any key of 24 to 64 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 64 }), (bytes) => {
        const key = parseWebhookSecret(`whsec_${Buffer.from(bytes).toString("base64")}`);
        expect(new Uint8Array(key)).toEqual(bytes);
      }),
    );
  });

  it.each(["", "secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", " whsec_abc"])(
    "refuses %j: no whsec_ prefix",
    (secret) => expect(reasonFor(secret)).toBe("missing_prefix"),
  );

  it.each([
    ["empty key", "whsec_"],
    ["symbols", "whsec_!!!!!!!!"],
    ["base64url alphabet", `whsec_${Buffer.alloc(32, 0xfb).toString("base64url")}`],
    ["missing padding", `whsec_${Buffer.alloc(32, 1).toString("base64").replace(/=+$/, "")}`],
    ["whitespace", `whsec_${Buffer.alloc(32, 1).toString("base64").slice(0, 20)} ${"A".repeat(23)}=`],
  ])("refuses %s: not base64", (_label, secret) => expect(reasonFor(secret)).toBe("not_base64"));

  it("refuses a non-canonical encoding that would decode to the same key", () => {
    const canonical = `whsec_${Buffer.alloc(32, 0).toString("base64")}`; // …AAA=
    const sloppy = `${canonical.slice(0, -2)}B=`; // the last character's unused low bits set
    expect(Buffer.from(sloppy.slice(6), "base64")).toEqual(Buffer.alloc(32, 0));
    expect(reasonFor(sloppy)).toBe("not_base64");
  });

  it.each([
    ["5 bytes", `whsec_${Buffer.from("short").toString("base64")}`],
    ["23 bytes", `whsec_${Buffer.alloc(23, 1).toString("base64")}`],
    ["65 bytes", `whsec_${Buffer.alloc(65, 1).toString("base64")}`],
  ])("refuses a key of %s: wrong length", (_label, secret) => expect(reasonFor(secret)).toBe("wrong_length"));

  it("never puts the secret in the error message", () => {
    const secret = `whsec_${Buffer.alloc(10, 9).toString("base64")}`;
    expect(() => parseWebhookSecret(secret)).toThrow(InvalidWebhookSecretError);
    try {
      parseWebhookSecret(secret);
    } catch (error) {
      expect((error as Error).message).not.toContain(secret.slice(6));
      expect((error as Error).message).toMatch(/24 to 64 bytes/);
    }
  });
});

describe("isValidWebhookSecret", () => {
  it("answers without throwing", () => {
    expect(isValidWebhookSecret(SPEC_SECRET)).toBe(true);
    expect(isValidWebhookSecret(generateWebhookSecret())).toBe(true);
    for (const bad of ["", "secret", "whsec_", "whsec_!!!!", "whsec_c2hvcnQ="])
      expect(isValidWebhookSecret(bad)).toBe(false);
  });
});
