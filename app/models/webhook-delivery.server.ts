import type { Database } from "~/db.server";
import { OPERATIONAL_EVENT_TYPES } from "~/lib/events/catalog";
import { sqlOn } from "~/services/database/sql.server";

/*
 * The recipient lookups run once per batch of events, for every event a user connects, so
 * they are plain SQL on the pool (see sql.server.ts), one statement for the whole batch.
 */

export type IntegrationRecipient = { userId: string; id: string; webhookUrl: string; webhookMaxRetries: number };

/**
 * The OAuth apps that hear about each user's integrations: they may ask for `integration`,
 * the user granted it and has not revoked it, and they have somewhere to send it.
 * Scopes are matched as whole array elements, never as substrings.
 */
export async function findIntegrationRecipients(
  db: Database,
  userIds: string[],
): Promise<Map<string, IntegrationRecipient[]>> {
  const { rows } = await sqlOn<IntegrationRecipient>(
    db,
    `SELECT g."userId", c.id, c."webhookUrl", c."webhookMaxRetries"
     FROM "OAuthIntegrationGrant" g JOIN "OAuthClient" c ON c.id = g."clientId"
     WHERE g."userId" = ANY($1::text[]) AND g."isActive" AND 'integration' = ANY(g.scopes)
       AND c."deletedAt" IS NULL AND c."webhookUrl" IS NOT NULL AND c."webhookDisabledAt" IS NULL
       AND 'integration' = ANY(c."allowedScopes")
     ORDER BY g."userId", c.id`,
    [[...new Set(userIds)]],
  );
  return groupBy(rows, (row) => row.userId);
}

export type EndpointRecipient = {
  userId: string;
  eventType: string;
  id: string;
  name: string;
  url: string;
  maxRetries: number;
};

/**
 * The endpoints that receive each (user, event type): the user's own, enabled, not disabled
 * by Echo, subscribed to the type (an empty list means every type but the operational ones,
 * which go only to endpoints that name them, and never to an endpoint an OAuth app registered).
 * An endpoint an OAuth app registered for the user receives only while the user's grant to
 * that app lasts. Paused endpoints are included: their deliveries wait until they are resumed.
 */
export async function findEndpointRecipients(
  db: Database,
  wanted: { userId: string; eventType: string }[],
): Promise<Map<string, EndpointRecipient[]>> {
  const { rows } = await sqlOn<EndpointRecipient>(
    db,
    `SELECT k."userId", k."eventType", e.id, e.name, e.url, e."maxRetries"
     FROM (SELECT DISTINCT *, "eventType" = ANY($3::text[]) AS operational
           FROM unnest($1::text[], $2::text[]) AS t("userId", "eventType")) k
     JOIN "WebhookEndpoint" e ON e."ownerId" = k."userId"
     WHERE e.enabled AND e."disabledAt" IS NULL
       AND (k."eventType" = ANY(e."eventTypes") OR (cardinality(e."eventTypes") = 0 AND NOT k.operational))
       AND (NOT k.operational OR e."oauthClientId" IS NULL)
       AND (e."oauthClientId" IS NULL OR EXISTS (
         SELECT 1 FROM "OAuthClient" c JOIN "OAuthIntegrationGrant" g ON g."clientId" = c.id
         WHERE c.id = e."oauthClientId" AND c."deletedAt" IS NULL AND g."userId" = k."userId" AND g."isActive"))
     ORDER BY k."userId", k."eventType", e.id`,
    [wanted.map((w) => w.userId), wanted.map((w) => w.eventType), OPERATIONAL_EVENT_TYPES],
  );
  return groupBy(rows, (row) => endpointRecipientKey(row));
}

export const endpointRecipientKey = ({ userId, eventType }: { userId: string; eventType: string }) =>
  JSON.stringify([userId, eventType]);

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
