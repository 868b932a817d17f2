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

/**
 * The endpoints that receive one of a user's events: the user's own, enabled, not disabled
 * by Echo, subscribed to the type (an empty list means every type). An endpoint an OAuth
 * app registered for the user receives only while the user's grant to that app lasts.
 * Paused endpoints are included: their deliveries wait until they are resumed.
 */
export function findEndpointRecipients(db: Database, { userId, eventType }: { userId: string; eventType: string }) {
  return db.webhookEndpoint.findMany({
    where: {
      ownerId: userId,
      enabled: true,
      disabledAt: null,
      OR: [{ eventTypes: { isEmpty: true } }, { eventTypes: { has: eventType } }],
      AND: [
        {
          OR: [
            { oauthClientId: null },
            { oauthClient: { deletedAt: null, integrationGrants: { some: { userId, isActive: true } } } },
          ],
        },
      ],
    },
    select: { id: true, name: true, url: true, maxRetries: true },
  });
}
