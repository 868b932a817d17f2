/**
 * Hands recorded WebhookEvents (the outbox) to the job engine and marks them handed over.
 * Being built in the durable-delivery issue; until then events stay in the outbox, where
 * nothing is lost.
 */
export async function dispatchPendingEvents(_filter: { source?: string } = {}): Promise<number> {
  return 0;
}
