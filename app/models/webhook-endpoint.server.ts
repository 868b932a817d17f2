import type { Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";

/**
 * Who is acting on endpoints: a user (browser or personal API key) sees and manages all of
 * their endpoints; an OAuth app acting with a user's access token only those it registered
 * for that user.
 */
export type EndpointActor = { userId: string; oauthClientId?: string };

export function endpointScope(actor: EndpointActor): Prisma.WebhookEndpointWhereInput {
  return { ownerId: actor.userId, ...(actor.oauthClientId ? { oauthClientId: actor.oauthClientId } : {}) };
}

export const endpointSelect = {
  id: true,
  ownerId: true,
  oauthClientId: true,
  name: true,
  url: true,
  secret: true,
  previousSecret: true,
  previousSecretExpiresAt: true,
  eventTypes: true,
  enabled: true,
  pausedAt: true,
  disabledAt: true,
  disabledReason: true,
  failingSince: true,
  // Sealed (often a receiver's credential): read it with openCustomHeaders, write it with sealCustomHeaders.
  customHeaders: true,
  maxRetries: true,
  retryBaseDelayMs: true,
  timeoutMs: true,
  rateLimitPerMinute: true,
  createdAt: true,
  updatedAt: true,
  oauthClient: { select: { name: true } },
} as const satisfies Prisma.WebhookEndpointSelect;

export type EndpointRecord = Prisma.WebhookEndpointGetPayload<{ select: typeof endpointSelect }>;

export function listEndpoints(db: Database, actor: EndpointActor): Promise<EndpointRecord[]> {
  return db.webhookEndpoint.findMany({
    where: endpointScope(actor),
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: endpointSelect,
  });
}

/** Another user's endpoint (or another app's) is simply not found. */
export function getEndpoint(db: Database, actor: EndpointActor, id: string): Promise<EndpointRecord | null> {
  return db.webhookEndpoint.findFirst({ where: { id, ...endpointScope(actor) }, select: endpointSelect });
}
