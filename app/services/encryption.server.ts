import { env, requireSetting } from "~/env.server";
import { decryptSecret, encryptSecret, type Keyring } from "~/lib/encryption";

/** ENCRYPTION_KEY encrypts; ENCRYPTION_KEYS_PREVIOUS only decrypt (see docs/SECURITY.md, "Key rotation"). */
export function atRestKeyring(): Keyring {
  return { current: requireSetting("ENCRYPTION_KEY"), previous: env.ENCRYPTION_KEYS_PREVIOUS };
}

/** Encrypts with the deployment's ENCRYPTION_KEY; see app/lib/encryption.ts for the format. */
export function encryptAtRest(plaintext: string): string {
  return encryptSecret(plaintext, atRestKeyring());
}

/** Decrypts with whichever of the deployment's keys encrypted the value. */
export function decryptAtRest(ciphertext: string): string {
  return decryptSecret(ciphertext, atRestKeyring());
}
