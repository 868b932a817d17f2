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

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that may carry a credential: never forwarded to another origin on a redirect. */
const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|key|auth/i;

/** Where a redirect points, and the request to send there (the Fetch standard's rules). */
function nextHop(
  from: URL,
  location: string,
  status: number,
  init: RequestInit,
): { url: URL; init: RequestInit } | { error: string } {
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    return { error: `The redirect to "${location.slice(0, 200)}" is not a valid URL.` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { error: "Only http and https redirects are followed." };
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  let next: RequestInit = { ...init, headers };
  if (
    (status === 303 && method !== "GET" && method !== "HEAD") ||
    ((status === 301 || status === 302) && method === "POST")
  ) {
    next = { ...next, method: "GET", body: undefined };
    for (const name of ["content-type", "content-length", "content-encoding", "content-language"]) headers.delete(name);
  } else if (init.body instanceof ReadableStream) {
    return { error: "A redirect asked to resend a streamed request body." };
  }
  if (url.origin !== from.origin) {
    for (const name of [...headers.keys()]) if (CREDENTIAL_HEADER.test(name)) headers.delete(name);
  }
  return { url, init: next };
}

/**
 * fetch with the same protections, including URLs whose host is an IP literal (they skip DNS).
 * Redirects are followed here, one hop at a time, so each destination is checked: undici's own
 * redirect handling would connect to an IP literal in a Location header without asking.
 */
export const outboundFetch: typeof fetch = async (input, init = {}) => {
  let url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  let request: RequestInit = init;
  for (let hop = 0; ; hop++) {
    const refused = checkLiteralDestination(url, env.OUTBOUND_ALLOWED_HOSTS);
    if (refused) throw refused;
    const response = (await undiciFetch(url, {
      ...(request as object),
      redirect: "manual",
      dispatcher: outboundDispatcher(),
    } as never)) as unknown as Response;
    const location = response.headers.get("location");
    if (!REDIRECT_STATUSES.has(response.status) || !location || init.redirect === "manual") return response;
    await response.body?.cancel();
    if (init.redirect === "error")
      throw new TypeError(`${url.host} answered with a redirect, which is not allowed here.`);
    if (hop >= MAX_REDIRECTS) throw new TypeError(`Too many redirects (more than ${MAX_REDIRECTS}) from ${url.host}.`);
    const next = nextHop(url, location, response.status, request);
    if ("error" in next) throw new TypeError(next.error);
    url = next.url;
    request = next.init;
  }
};
