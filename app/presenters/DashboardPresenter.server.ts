import type { Database } from "~/db.server";

/** Everything the dashboard shows, for one user, in one round of queries. */
export async function presentDashboard(db: Database, userId: string) {
  const [integrations, connectedAccounts, oauthApps, activeGrants, recentDeliveries] = await Promise.all([
    db.integrationDefinition.findMany({
      orderBy: { name: "asc" },
      select: { slug: true, name: true, description: true, icon: true, authType: true },
    }),
    db.integrationAccount.count({ where: { userId, deletedAt: null } }),
    db.oAuthClient.findMany({
      where: { ownerId: userId, deletedAt: null },
      orderBy: { createdAt: "asc" },
      select: { id: true, name: true, clientId: true, allowedScopes: true, webhookUrl: true },
    }),
    db.oAuthIntegrationGrant.count({ where: { userId, isActive: true } }),
    db.webhookDelivery.count({
      where: { OR: [{ oauthClient: { ownerId: userId } }, { endpoint: { ownerId: userId } }] },
    }),
  ]);
  return { integrations, connectedAccounts, oauthApps, activeGrants, recentDeliveries };
}

export type DashboardView = Awaited<ReturnType<typeof presentDashboard>>;
