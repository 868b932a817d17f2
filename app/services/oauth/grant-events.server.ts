import type { Prisma } from "~/generated/prisma/client";
import { recordEvent } from "~/services/webhooks/events.server";

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
  return recordEvent(tx, {
    type: input.type,
    userId: input.userId,
    source: grantEventSource(input.client.dbId, input.userId),
    payload: {
      event: input.type,
      user_id: input.userId,
      client: { id: input.client.clientId, name: input.client.name },
      scopes: input.scopes,
      timestamp: occurredAt.toISOString(),
    },
    occurredAt,
  });
}
