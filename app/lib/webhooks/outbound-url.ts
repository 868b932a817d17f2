import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import ipaddr from "ipaddr.js";

/**
 * Outbound safety for URLs that users give Echo (webhook endpoints, MCP servers): Echo
 * must not become a way into its own network. URLs are checked when saved, and the
 * resolved address is checked again at connect time (a lookup hook), so a DNS name that
 * later points at 127.0.0.1 or a cloud metadata address is refused too.
 */

export type UrlCheck = { ok: true; url: URL } | { ok: false; error: string };

const MAX_URL_LENGTH = 2048;

export function parseWebhookUrl(input: string, { requireHttps = false, allowlist = [] as string[] } = {}): UrlCheck {
  const trimmed = input.trim();
  if (trimmed.length === 0) return { ok: false, error: "Enter a URL." };
  if (trimmed.length > MAX_URL_LENGTH) return { ok: false, error: `URLs are at most ${MAX_URL_LENGTH} characters.` };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, error: "Enter a full URL, such as https://example.com/webhooks." };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, error: "Only http and https URLs are allowed." };
  if (url.username || url.password)
    return { ok: false, error: "Credentials in the URL are not allowed; use a custom header instead." };
  if (url.hash) return { ok: false, error: "URLs cannot contain a #fragment." };
  if (!url.hostname) return { ok: false, error: "The URL needs a host name." };
  const host = hostOf(url);
  const allowlisted = isAllowlisted(host, allowlist);
  if (requireHttps && url.protocol !== "https:" && !allowlisted) return { ok: false, error: "Use an https URL." };
  if (ipaddr.isValid(host) && isForbiddenAddress(host) && !allowlisted) {
    return {
      ok: false,
      error: "This address is private, loopback, link-local or reserved; Echo does not send webhooks there.",
    };
  }
  if (/^(localhost|.*\.localhost|.*\.internal|.*\.local)$/i.test(host) && !allowlisted) {
    return { ok: false, error: "This host name is local to a network; Echo does not send webhooks there." };
  }
  return { ok: true, url };
}

/** The URL's host without IPv6 brackets; WHATWG URL parsing already normalises 0177.0.0.1, 2130706433, 0x7f.1. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

/** Anything but a public unicast address is forbidden, including IPv6 forms that embed an IPv4 address. */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === "ipv6") {
    const bytes = parsed.toByteArray();
    // IPv4-compatible (::a.b.c.d), deprecated but still routed by some stacks.
    if (bytes.slice(0, 12).every((byte) => byte === 0)) return true;
  }
  return parsed.range() !== "unicast";
}

function parseAllowEntry(
  entry: string,
): { kind: "cidr"; range: [ipaddr.IPv4 | ipaddr.IPv6, number] } | { kind: "host"; host: string } {
  const trimmed = entry
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (trimmed.includes("/")) {
    try {
      return { kind: "cidr", range: ipaddr.parseCIDR(trimmed) };
    } catch {
      return { kind: "host", host: trimmed };
    }
  }
  if (ipaddr.isValid(trimmed)) {
    const address = ipaddr.parse(trimmed);
    return { kind: "cidr", range: [address, address.kind() === "ipv4" ? 32 : 128] };
  }
  return { kind: "host", host: trimmed };
}

/** Allowlist entries: exact IPs, CIDRs (127.0.0.0/8), or host names (exact match). */
export function isAllowlisted(hostOrAddress: string, allowlist: readonly string[]): boolean {
  const candidate = hostOrAddress.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const address = ipaddr.isValid(candidate) ? ipaddr.parse(candidate) : undefined;
  const unwrapped =
    address && address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
      ? (address as ipaddr.IPv6).toIPv4Address()
      : address;
  return allowlist.some((entry) => {
    const parsed = parseAllowEntry(entry);
    if (parsed.kind === "host") return parsed.host === candidate;
    if (!unwrapped || unwrapped.kind() !== parsed.range[0].kind()) return false;
    return unwrapped.match(parsed.range);
  });
}

export class ForbiddenDestinationError extends Error {
  readonly code = "ECHO_FORBIDDEN_ADDRESS";
  constructor(host: string, address: string) {
    super(
      `Refused to connect to ${host} (${address}): private, loopback, link-local or reserved addresses are not allowed.`,
    );
    this.name = "ForbiddenDestinationError";
  }
}

/** Checks a URL whose host is an IP literal (connecting to those never calls the lookup hook). */
export function checkLiteralDestination(url: string, allowlist: readonly string[]): ForbiddenDestinationError | null {
  const host = hostOf(new URL(url));
  if (!ipaddr.isValid(host)) return null;
  return isForbiddenAddress(host) && !isAllowlisted(host, allowlist) ? new ForbiddenDestinationError(host, host) : null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type LookupFn = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A `dns.lookup`-compatible function for undici's `connect.lookup`: it resolves with the
 * given resolver, then refuses forbidden addresses unless the host or address is allowlisted.
 */
export function createSafeLookup({ allowlist, lookup }: { allowlist: readonly string[]; lookup?: LookupFn }): LookupFn {
  const resolve: LookupFn =
    lookup ?? ((hostname, options, callback) => dnsLookup(hostname, options, callback as never));
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, options.all ? [] : "");
      const list = (addresses as LookupAddress[]).filter(Boolean);
      const hostAllowed = isAllowlisted(hostname, allowlist);
      const refused = list.find(
        (entry) => !hostAllowed && isForbiddenAddress(entry.address) && !isAllowlisted(entry.address, allowlist),
      );
      if (refused) return callback(new ForbiddenDestinationError(hostname, refused.address), options.all ? [] : "");
      if (list.length === 0)
        return callback(
          Object.assign(new Error(`No address for ${hostname}`), { code: "ENOTFOUND" }),
          options.all ? [] : "",
        );
      if (options.all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}
