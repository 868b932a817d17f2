import { fetch as undiciFetch, type Dispatcher } from "undici";
import { env } from "~/env.server";
import { checkLiteralDestination, createSafeLookup } from "~/lib/webhooks/outbound-url";
import { createWebhookAgent } from "~/services/webhooks/http-sender.server";

let shared: Dispatcher | undefined;

/**
 * One keep-alive pool per process for every request Echo makes to a URL it was given
 * (webhook receivers, MCP servers, providers): each connection checks the resolved
 * address, so private, loopback and metadata addresses are refused unless allowlisted.
 */
export function outboundDispatcher(): Dispatcher {
  shared ??= createWebhookAgent({ lookup: createSafeLookup({ allowlist: env.OUTBOUND_ALLOWED_HOSTS }) });
  return shared;
}

/** fetch with the same protections, including URLs whose host is an IP literal (they skip DNS). */
export const outboundFetch: typeof fetch = async (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const refused = checkLiteralDestination(url, env.OUTBOUND_ALLOWED_HOSTS);
  if (refused) throw refused;
  return (await undiciFetch(url, {
    ...(init as object),
    dispatcher: outboundDispatcher(),
  } as never)) as unknown as Response;
};
