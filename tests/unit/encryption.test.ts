import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DecryptionError, decryptSecret, encryptSecret } from "~/lib/encryption";

const key = randomBytes(32).toString("base64");

describe("encryptSecret / decryptSecret", () => {
  it("round-trips and never returns the plaintext in the ciphertext", () => {
    const ciphertext = encryptSecret("whsec_c2VjcmV0", key);
    expect(ciphertext).not.toContain("whsec_");
    expect(decryptSecret(ciphertext, key)).toBe("whsec_c2VjcmV0");
  });

  it("uses a fresh IV each time", () => {
    expect(encryptSecret("same", key)).not.toBe(encryptSecret("same", key));
  });

  it("rejects a tampered ciphertext", () => {
    const [v, iv, tag, data] = encryptSecret("secret value", key).split(".");
    const flipped = Buffer.from(data!, "base64url");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => decryptSecret([v, iv, tag, flipped.toString("base64url")].join("."), key)).toThrow(DecryptionError);
  });

  it("rejects the wrong key", () => {
    const ciphertext = encryptSecret("secret value", key);
    expect(() => decryptSecret(ciphertext, randomBytes(32).toString("base64"))).toThrow(DecryptionError);
  });

  it("rejects a key that is not 32 bytes", () => {
    expect(() => encryptSecret("x", Buffer.alloc(16).toString("base64"))).toThrow("32 bytes");
  });
});
