import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DecryptionError,
  decryptSecret,
  encryptSecret,
  keyIdOf,
  needsReencryption,
  reencryptSecret,
} from "~/lib/encryption";

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
    const [v, keyId, iv, tag, data] = encryptSecret("secret value", key).split(".");
    const flipped = Buffer.from(data!, "base64url");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => decryptSecret([v, keyId, iv, tag, flipped.toString("base64url")].join("."), key)).toThrow(
      DecryptionError,
    );
  });

  it("rejects the wrong key", () => {
    const ciphertext = encryptSecret("secret value", key);
    expect(() => decryptSecret(ciphertext, randomBytes(32).toString("base64"))).toThrow(DecryptionError);
  });

  it("rejects a key that is not 32 bytes", () => {
    expect(() => encryptSecret("x", Buffer.alloc(16).toString("base64"))).toThrow("32 bytes");
  });
});

/** A value in the format written before key ids existed, to prove old rows stay readable. */
function encryptV1(plaintext: string, base64Key: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(base64Key, "base64"), iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), data]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

describe("key rotation", () => {
  const oldKey = randomBytes(32).toString("base64");
  const newKey = randomBytes(32).toString("base64");
  const rotated = { current: newKey, previous: [oldKey] };

  it("names the encrypting key by a fingerprint, never the key itself", () => {
    const ciphertext = encryptSecret("secret value", newKey);
    const [version, keyId] = ciphertext.split(".");
    expect(version).toBe("v2");
    expect(keyId).toBe(keyIdOf(newKey));
    expect(keyIdOf(newKey)).not.toBe(keyIdOf(oldKey));
    expect(ciphertext).not.toContain(newKey.replace(/=+$/, ""));
  });

  it("decrypts a value written with a previous key", () => {
    expect(decryptSecret(encryptSecret("whsec_old", oldKey), rotated)).toBe("whsec_old");
  });

  it("still reads v1 values (no key id), with the current or a previous key", () => {
    expect(decryptSecret(encryptV1("legacy under new", newKey), rotated)).toBe("legacy under new");
    expect(decryptSecret(encryptV1("legacy under old", oldKey), rotated)).toBe("legacy under old");
  });

  it("re-encrypts under the current key, and then needs nothing more", () => {
    for (const before of [
      encryptSecret("payload", oldKey),
      encryptV1("payload", oldKey),
      encryptV1("payload", newKey),
    ]) {
      expect(needsReencryption(before, rotated)).toBe(true);
      const after = reencryptSecret(before, rotated);
      expect(after.split(".")[1]).toBe(keyIdOf(newKey));
      expect(needsReencryption(after, rotated)).toBe(false);
      // Readable with the new key alone: the old one can now be retired.
      expect(decryptSecret(after, newKey)).toBe("payload");
    }
  });

  it("refuses a value encrypted with a key it does not have, naming the key id and the setting", () => {
    const stranger = randomBytes(32).toString("base64");
    const ciphertext = encryptSecret("secret value", stranger);
    expect(() => decryptSecret(ciphertext, rotated)).toThrow(DecryptionError);
    expect(() => decryptSecret(ciphertext, rotated)).toThrow(
      new RegExp(`key id ${keyIdOf(stranger)}.*ENCRYPTION_KEYS_PREVIOUS`),
    );
    expect(() => decryptSecret(encryptV1("secret value", stranger), rotated)).toThrow(DecryptionError);
    expect(() => reencryptSecret(ciphertext, rotated)).toThrow(DecryptionError);
  });

  it("rejects a value whose key id was swapped for another known key's", () => {
    const [v, , iv, tag, data] = encryptSecret("secret value", oldKey).split(".");
    expect(() => decryptSecret([v, keyIdOf(newKey), iv, tag, data].join("."), rotated)).toThrow(DecryptionError);
  });
});
