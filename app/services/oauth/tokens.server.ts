import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Codes, tokens and client secrets are 256-bit random values, so a SHA-256 hash is enough to
 * store them (a slow password hash protects guessable secrets; these are not guessable).
 */
export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function matchesHash(token: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), "hex");
  const expected = Buffer.from(expectedHash, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
