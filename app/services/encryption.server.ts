import { requireSetting } from "~/env.server";
import { decryptSecret, encryptSecret } from "~/lib/encryption";

/** Encrypts with the deployment's ENCRYPTION_KEY; see app/lib/encryption.ts for the format. */
export function encryptAtRest(plaintext: string): string {
  return encryptSecret(plaintext, requireSetting("ENCRYPTION_KEY"));
}

export function decryptAtRest(ciphertext: string): string {
  return decryptSecret(ciphertext, requireSetting("ENCRYPTION_KEY"));
}
