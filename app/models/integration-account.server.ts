import type { Database } from "~/db.server";

/** A user's connected accounts, without credentials: safe to hand to a page. */
export function listConnectedAccounts(db: Database, userId: string) {
  return db.integrationAccount.findMany({
    where: { userId, deletedAt: null },
    orderBy: { connectedAt: "desc" },
    select: {
      id: true,
      accountId: true,
      displayName: true,
      status: true,
      connectedAt: true,
      definition: { select: { slug: true, name: true, icon: true, authType: true } },
    },
  });
}

export function findDefinitionBySlug(db: Database, slug: string) {
  return db.integrationDefinition.findUnique({
    where: { slug },
    select: { id: true, slug: true, name: true, icon: true, authType: true, config: true },
  });
}
