import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * AES-256-GCM for secrets at rest (webhook secrets, integration credentials).
 *
 * Format: `v2.<keyId>.<iv>.<tag>.<ciphertext>`, each part base64url; `keyId` names the key
 * that encrypted the value (a fingerprint, never the key), so that after a rotation Echo
 * knows which of its keys opens it. `v1.<iv>.<tag>.<ciphertext>` values, written before key
 * ids existed, are still read: every known key is tried. See docs/SECURITY.md, "Key rotation".
 */
const VERSION = "v2";
const LEGACY_VERSION = "v1";

/** The current key encrypts; previous keys only decrypt, until `npm run secrets:rotate` has re-encrypted everything. */
export type Keyring = { current: string; previous: readonly string[] };

export class DecryptionError extends Error {
  constructor(message = "The value could not be decrypted: wrong key or tampered data.") {
    super(message);
    this.name = "DecryptionError";
  }
}

function keyFrom(base64Key: string): Buffer {
  const key = Buffer.from(base64Key, "base64");
  if (key.length !== 32) throw new Error("The encryption key must be 32 bytes, base64-encoded.");
  return key;
}

/** A short, public fingerprint of a key: 8 base64url characters of its SHA-256. */
export function keyIdOf(base64Key: string): string {
  return createHash("sha256").update(keyFrom(base64Key)).digest("base64url").slice(0, 8);
}

function asKeyring(keys: string | Keyring): Keyring {
  return typeof keys === "string" ? { current: keys, previous: [] } : keys;
}

export function encryptSecret(plaintext: string, keys: string | Keyring): string {
  const { current } = asKeyring(keys);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFrom(current), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [
    VERSION,
    keyIdOf(current),
    iv.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
    ciphertext.toString("base64url"),
  ].join(".");
}

function open(key: string, iv: string, tag: string, ciphertext: string): string {
  const decipher = createDecipheriv("aes-256-gcm", keyFrom(key), Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
}

export function decryptSecret(encoded: string, keys: string | Keyring): string {
  const keyring = asKeyring(keys);
  const all = [keyring.current, ...keyring.previous];
  const parts = encoded.split(".");
  if (parts[0] === VERSION && parts.length === 5) {
    const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
    const key = all.find((candidate) => keyIdOf(candidate) === keyId);
    if (!key) {
      throw new DecryptionError(
        `The value was encrypted with a key Echo does not have (key id ${keyId}): add that key to ENCRYPTION_KEYS_PREVIOUS.`,
      );
    }
    try {
      return open(key, iv, tag, ciphertext);
    } catch {
      throw new DecryptionError();
    }
  }
  if (parts[0] === LEGACY_VERSION && parts.length === 4) {
    const [, iv, tag, ciphertext] = parts as [string, string, string, string];
    // No key id: the key that opens it (GCM authenticates, so a wrong key never "succeeds").
    for (const key of all) {
      try {
        return open(key, iv, tag, ciphertext);
      } catch {
        // Not this key; try the next one.
      }
    }
    throw new DecryptionError();
  }
  throw new DecryptionError("Unknown ciphertext format.");
}

/** Whether a value is anything but the current format under the current key: what a rotation rewrites. */
export function needsReencryption(encoded: string, keys: Keyring): boolean {
  const parts = encoded.split(".");
  return !(parts[0] === VERSION && parts.length === 5 && parts[1] === keyIdOf(keys.current));
}

/** The same plaintext, encrypted under the current key; throws DecryptionError if no known key opens it. */
export function reencryptSecret(encoded: string, keys: Keyring): string {
  return encryptSecret(decryptSecret(encoded, keys), keys);
}
