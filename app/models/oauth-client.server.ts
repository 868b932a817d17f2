import type { Database } from "~/db.server";

const appSelect = {
  id: true,
  clientId: true,
  name: true,
  clientType: true,
  redirectUris: true,
  allowedScopes: true,
  webhookUrl: true,
  webhookSecret: true,
  previousSecretExpiresAt: true,
  webhookMaxRetries: true,
  webhookTimeoutMs: true,
  webhookDisabledAt: true,
  webhookDisabledReason: true,
  createdAt: true,
} as const;

/** Every query takes the owner: another developer's app is simply not found. */
export function listOAuthApps(db: Database, ownerId: string) {
  return db.oAuthClient.findMany({
    where: { ownerId, deletedAt: null },
    orderBy: { createdAt: "asc" },
    select: appSelect,
  });
}

export function getOAuthApp(db: Database, { id, ownerId }: { id: string; ownerId: string }) {
  return db.oAuthClient.findFirst({ where: { id, ownerId, deletedAt: null }, select: appSelect });
}
