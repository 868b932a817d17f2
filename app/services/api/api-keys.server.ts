import { z } from "zod";
import type { Database } from "~/db.server";
import { hashToken, randomToken } from "~/services/oauth/tokens.server";

export const API_KEY_PREFIX = "echo_sk_";
export const MAX_API_KEYS = 20;

export const ApiKeyInputSchema = z.object({
  name: z.string().trim().min(1, "Name the key").max(100, "Keep the name under 100 characters"),
});

/** A personal API key: shown once, stored as a SHA-256 hash (it is 256 bits of randomness). */
export async function createApiKey(db: Database, userId: string, input: z.infer<typeof ApiKeyInputSchema>) {
  const live = await db.apiKey.count({ where: { userId, revokedAt: null } });
  if (live >= MAX_API_KEYS)
    return { ok: false as const, error: `You can have at most ${MAX_API_KEYS} API keys; revoke one first.` };
  const key = randomToken(API_KEY_PREFIX);
  const record = await db.apiKey.create({
    data: { userId, name: input.name, prefix: key.slice(0, API_KEY_PREFIX.length + 6), keyHash: hashToken(key) },
    select: { id: true, name: true, prefix: true, createdAt: true },
  });
  return { ok: true as const, key, record };
}

export function listApiKeys(db: Database, userId: string) {
  return db.apiKey.findMany({
    where: { userId, revokedAt: null },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true },
  });
}

export async function revokeApiKey(db: Database, userId: string, id: string): Promise<boolean> {
  const revoked = await db.apiKey.updateMany({
    where: { id, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return revoked.count === 1;
}

export async function findUserByApiKey(db: Database, key: string): Promise<string | null> {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const record = await db.apiKey.findUnique({
    where: { keyHash: hashToken(key) },
    select: { id: true, userId: true, revokedAt: true, lastUsedAt: true },
  });
  if (!record || record.revokedAt) return null;
  // Once a minute is precise enough for "last used", and spares a write per request.
  if (!record.lastUsedAt || Date.now() - record.lastUsedAt.getTime() > 60_000) {
    await db.apiKey.update({ where: { id: record.id }, data: { lastUsedAt: new Date() } });
  }
  return record.userId;
}
