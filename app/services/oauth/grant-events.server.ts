import type { Prisma } from "~/generated/prisma/client";
import { publishEvent } from "~/services/webhooks/publish.server";

/** Events about one user's grants to one app share a source, so they are dispatched together after the commit. */
export function grantEventSource(clientDbId: string, userId: string): string {
  return `oauth-grant:${clientDbId}:${userId}`;
}

/** Records oauth.grant.created / oauth.grant.revoked in the transaction that grants or revokes. */
export function recordGrantEvent(
  tx: Prisma.TransactionClient,
  input: {
    type: "oauth.grant.created" | "oauth.grant.revoked";
    userId: string;
    client: { dbId: string; clientId: string; name: string };
    scopes: string[];
  },
) {
  const occurredAt = new Date();
  return publishEvent(
    input.userId,
    input.type,
    {
      event: input.type,
      user_id: input.userId,
      client: { id: input.client.clientId, name: input.client.name },
      scopes: input.scopes,
      timestamp: occurredAt.toISOString(),
    },
    { tx, source: grantEventSource(input.client.dbId, input.userId), occurredAt },
  );
}
