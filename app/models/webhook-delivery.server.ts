import type { Database } from "~/db.server";

/**
 * The OAuth apps that hear about a user's integrations: they may ask for `integration`,
 * the user granted it and has not revoked it, and they have somewhere to send it.
 * Scopes are matched as whole array elements, never as substrings.
 */
export function findIntegrationRecipients(db: Database, userId: string) {
  return db.oAuthClient.findMany({
    where: {
      deletedAt: null,
      webhookUrl: { not: null },
      webhookDisabledAt: null,
      allowedScopes: { has: "integration" },
      integrationGrants: { some: { userId, isActive: true, scopes: { has: "integration" } } },
    },
    select: { id: true, webhookUrl: true, webhookMaxRetries: true },
  });
}
