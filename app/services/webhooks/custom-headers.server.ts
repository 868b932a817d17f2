import type { Prisma } from "~/generated/prisma/client";
import { decryptSecret, encryptSecret, needsReencryption, reencryptSecret, type Keyring } from "~/lib/encryption";
import type { CustomHeaders } from "~/lib/webhooks/headers";
import { atRestKeyring } from "~/services/encryption.server";

/**
 * `WebhookEndpoint.customHeaders` often carries a receiver's credential, so it holds the
 * AES-256-GCM ciphertext of the headers' JSON, stored as a JSON string: the column stayed
 * `Json`, so no migration was needed. Rows written before that hold the headers as a plain
 * object; they are still read, and `npm run secrets:rotate` seals them. Every reader and
 * writer of the column goes through this file.
 */

/** What to write to the column. */
export function sealCustomHeaders(headers: CustomHeaders, keys: Keyring = atRestKeyring()): string {
  return encryptSecret(JSON.stringify(headers), keys);
}

/**
 * The headers in the column, whichever form it holds. Only string values are kept: that is
 * all a writer ever stored, and no reader can send or show anything else. A ciphertext no
 * configured key opens throws a DecryptionError.
 */
export function openCustomHeaders(stored: Prisma.JsonValue, keys: Keyring = atRestKeyring()): Record<string, string> {
  const headers: unknown = typeof stored === "string" ? JSON.parse(decryptSecret(stored, keys)) : stored;
  const strings: Record<string, string> = {};
  if (!headers || typeof headers !== "object" || Array.isArray(headers)) return strings;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === "string") strings[name] = value;
  }
  return strings;
}

/**
 * For a key rotation: the column's new value under the keyring's current key, or null when
 * it already is. A plain (pre-encryption) value is sealed exactly as it is, so converting a
 * row never changes what its readers see.
 */
export function resealCustomHeaders(stored: Prisma.JsonValue, keys: Keyring): string | null {
  if (typeof stored === "string") return needsReencryption(stored, keys) ? reencryptSecret(stored, keys) : null;
  return encryptSecret(JSON.stringify(stored), keys);
}
