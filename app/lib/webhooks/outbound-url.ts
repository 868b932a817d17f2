import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import ipaddr from "ipaddr.js";

/**
 * Outbound safety for URLs that users give Echo (webhook endpoints, MCP servers): Echo must
 * not become a way into its own network (SSRF). Two checks, both needed:
 *
 * - When a URL is saved: parseWebhookUrl refuses non-http(s) URLs, credentials, fragments,
 *   internal IP literals and names that are local by definition (localhost, *.internal, …).
 * - When connecting: createSafeLookup wraps DNS resolution for undici's `connect.lookup`, so
 *   the address actually connected to is checked. A name that resolved to a public address
 *   when saved and to 127.0.0.1 later (DNS rebinding) is refused then. Node never calls the
 *   lookup for an IP literal, so checkLiteralDestination covers those before sending.
 *
 * An allowlist (OUTBOUND_ALLOWED_HOSTS: exact IPs, CIDRs, exact host names) lets
 * deployments reach chosen internal receivers. Cloud metadata addresses stay refused even
 * when allowlisted: nothing legitimate receives webhooks there.
 */

export const MAX_URL_LENGTH = 2048;

export type UrlCheck = { ok: true; url: URL } | { ok: false; error: string };

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Instance metadata and platform endpoints of the major clouds; never reachable, allowlisted or not. */
const CLOUD_METADATA_ADDRESSES = new Set([
  "169.254.169.254", // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
  "169.254.170.2", // AWS ECS task metadata
  "169.254.169.253", // AWS VPC DNS
  "168.63.129.16", // Azure WireServer: a public-looking address that is host-internal
  "100.100.100.200", // Alibaba Cloud
  "192.0.0.192", // Oracle Cloud
  "fd00:ec2::254", // AWS IMDS over IPv6
  "fd00:ec2::23", // AWS IMDS v2 DNS over IPv6
]);

export type ForbiddenAddressReason =
  | "not_an_ip"
  | "cloud_metadata"
  | "unspecified"
  | "loopback"
  | "private"
  | "link_local"
  | "carrier_grade_nat"
  | "unique_local"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "ipv4_compatible"
  | "ipv4_translated"
  | "teredo"
  | "nat64_local_use";

const IPV4_RANGE_REASONS: Record<string, ForbiddenAddressReason> = {
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link_local",
  loopback: "loopback",
  carrierGradeNat: "carrier_grade_nat",
  private: "private",
};
const IPV6_RANGE_REASONS: Record<string, ForbiddenAddressReason> = {
  unspecified: "unspecified",
  loopback: "loopback",
  linkLocal: "link_local",
  deprecatedSiteLocal: "private",
  multicast: "multicast",
  uniqueLocal: "unique_local",
  rfc6145: "ipv4_translated",
  teredo: "teredo",
};

const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96");
const NAT64_LOCAL_USE = ipaddr.parseCIDR("64:ff9b:1::/48");
const SIX_TO_FOUR = ipaddr.parseCIDR("2002::/16");
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

function stripBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

const DOTTED_SUFFIX = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(%[^%]*)?$/;

/**
 * IPv6 with a dotted IPv4 tail (`::ffff:1.2.3.4`, `::1.2.3.4`) in pure hex. ipaddr.js reads
 * any dotted tail as IPv4-mapped, so `::127.0.0.1` (IPv4-compatible) would pass for
 * `::ffff:127.0.0.1`; converting first keeps the two apart. Undefined when the tail is not
 * four plain decimal octets.
 */
function hexIPv6(candidate: string): string | undefined {
  if (!candidate.includes(":") || !candidate.includes(".")) return candidate;
  const match = DOTTED_SUFFIX.exec(candidate);
  if (!match) return undefined;
  const octets = match.slice(2, 6).map((text) => (/^(0|[1-9]\d*)$/.test(text!) ? Number(text) : 256));
  if (octets.some((octet) => octet > 255)) return undefined;
  const [a, b, c, d] = octets as [number, number, number, number];
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}${match[6] ?? ""}`;
}

function parseAddress(input: string): Address | undefined {
  const candidate = hexIPv6(stripBrackets(input.trim()));
  return candidate !== undefined && ipaddr.isValid(candidate) ? ipaddr.parse(candidate) : undefined;
}

/** The IPv4 address an IPv6 address stands for, for the forms that route to one. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  if (address.isIPv4MappedAddress()) return address.toIPv4Address(); // ::ffff:a.b.c.d
  if (address.match(NAT64_WELL_KNOWN)) return new ipaddr.IPv4(bytes.slice(12)); // 64:ff9b::a.b.c.d
  if (address.match(SIX_TO_FOUR)) return new ipaddr.IPv4(bytes.slice(2, 6)); // 2002:AABB:CCDD::/48
  return undefined;
}

function ipv4Reason(address: ipaddr.IPv4): ForbiddenAddressReason | null {
  if (CLOUD_METADATA_ADDRESSES.has(address.toString())) return "cloud_metadata";
  const range = address.range();
  if (range === "unicast") return null;
  return IPV4_RANGE_REASONS[range] ?? "reserved";
}

/**
 * Why Echo must not connect to this address, or null for a public unicast address. Anything
 * that is not an IP address is refused ("not_an_ip"). IPv6 forms that carry an IPv4 address
 * (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address, so
 * DNS64 networks still reach public hosts; IPv4-compatible (::a.b.c.d, deprecated),
 * IPv4-translated, Teredo and local-use NAT64 are refused outright. Accepts the IPv4 forms
 * inet_aton accepts (2130706433, 0177.0.0.1, 0x7f.1, 127.1), as WHATWG URL parsing does.
 */
export function forbiddenAddressReason(ip: string): ForbiddenAddressReason | null {
  const address = parseAddress(ip);
  if (!address) return "not_an_ip";
  if (address.kind() === "ipv4") return ipv4Reason(address as ipaddr.IPv4);

  const v6 = address as ipaddr.IPv6;
  // Compare without a zone id (fe80::1%eth0) so metadata lookups see the bare address.
  if (CLOUD_METADATA_ADDRESSES.has(new ipaddr.IPv6(v6.parts).toString())) return "cloud_metadata";
  const embedded = embeddedIPv4(v6);
  if (embedded) return ipv4Reason(embedded);
  const range = v6.range();
  if (IPV6_RANGE_REASONS[range]) return IPV6_RANGE_REASONS[range]!;
  if (v6.match(NAT64_LOCAL_USE)) return "nat64_local_use";
  if (
    v6
      .toByteArray()
      .slice(0, 12)
      .every((byte) => byte === 0)
  )
    return "ipv4_compatible";
  // Only 2000::/3 is allocated for global unicast; everything else is reserved or special.
  if (range !== "unicast" || !v6.match(GLOBAL_UNICAST_V6)) return "reserved";
  return null;
}

/** True unless `ip` is a public unicast IP address (see forbiddenAddressReason). */
export function isForbiddenAddress(ip: string): boolean {
  return forbiddenAddressReason(ip) !== null;
}

function isCloudMetadata(ip: string): boolean {
  return forbiddenAddressReason(ip) === "cloud_metadata";
}

/** Lower-case, without IPv6 brackets or trailing dots (`localhost.` is `localhost`). */
export function normalizeHost(host: string): string {
  return stripBrackets(host.trim().toLowerCase()).replace(/\.+$/, "");
}

/** The URL's host, normalised; WHATWG URL parsing already turned 0177.0.0.1, 2130706433, 0x7f.1 into 127.0.0.1. */
export function hostOf(url: URL): string {
  return normalizeHost(url.hostname);
}

export type AllowlistEntry =
  { kind: "cidr"; source: string; range: [Address, number] } | { kind: "host"; source: string; host: string };

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * One allowlist entry: an IP (`10.0.0.7`, `::1`), a CIDR (`127.0.0.0/8`, `fd00::/8`) or an
 * exact host name (`receiver.internal`; no wildcards, no ports).
 */
export function parseAllowlistEntry(entry: string): { ok: true; entry: AllowlistEntry } | { ok: false; error: string } {
  const source = entry.trim();
  const value = normalizeHost(source);
  if (!value) return { ok: false, error: "An allowlist entry cannot be empty." };
  if (value.includes("/")) {
    try {
      return { ok: true, entry: { kind: "cidr", source, range: ipaddr.parseCIDR(value) } };
    } catch {
      return { ok: false, error: `"${source}" is not a valid CIDR range, such as 10.0.0.0/8.` };
    }
  }
  const address = parseAddress(value);
  if (address) {
    return { ok: true, entry: { kind: "cidr", source, range: [address, address.kind() === "ipv4" ? 32 : 128] } };
  }
  if (value.length <= 253 && value.split(".").every((label) => HOST_LABEL.test(label))) {
    return { ok: true, entry: { kind: "host", source, host: value } };
  }
  return { ok: false, error: `"${source}" is not an IP address, a CIDR range or a host name.` };
}

export class InvalidAllowlistError extends Error {
  constructor(readonly errors: string[]) {
    super(`Invalid outbound allowlist: ${errors.join(" ")}`);
    this.name = "InvalidAllowlistError";
  }
}

export type Allowlist = {
  readonly entries: readonly AllowlistEntry[];
  /** Whether a host name or IP address (IPv4-mapped IPv6 counts as its IPv4) is allowlisted. */
  matches(hostOrAddress: string): boolean;
};

/** Parses the entries once; throws InvalidAllowlistError listing every bad entry, so a typo fails at startup. */
export function compileAllowlist(entries: readonly string[]): Allowlist {
  const parsed: AllowlistEntry[] = [];
  const errors: string[] = [];
  for (const entry of entries) {
    if (!entry.trim()) continue;
    const result = parseAllowlistEntry(entry);
    if (result.ok) parsed.push(result.entry);
    else errors.push(result.error);
  }
  if (errors.length > 0) throw new InvalidAllowlistError(errors);
  return {
    entries: parsed,
    matches(hostOrAddress) {
      const candidate = normalizeHost(hostOrAddress);
      let address = parseAddress(candidate);
      if (address?.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
        address = (address as ipaddr.IPv6).toIPv4Address();
      }
      return parsed.some((entry) => {
        if (entry.kind === "host") return !address && entry.host === candidate;
        return address !== undefined && address.kind() === entry.range[0].kind() && address.match(entry.range);
      });
    },
  };
}

/** Lists already compiled: every delivery checks against the same configured list. */
const compiledLists = new WeakMap<readonly string[], Allowlist>();

function toAllowlist(allowlist: Allowlist | readonly string[]): Allowlist {
  if (!Array.isArray(allowlist)) return allowlist as Allowlist;
  const entries = allowlist as readonly string[];
  let compiled = compiledLists.get(entries);
  if (!compiled) {
    compiled = compileAllowlist(entries);
    // A list changed in place after compiling is not seen: only frozen lists are remembered.
    if (Object.isFrozen(entries)) compiledLists.set(entries, compiled);
  }
  return compiled;
}

/** Whether a host name or address is allowlisted. Prefer compileAllowlist once for repeated checks. */
export function isAllowlisted(hostOrAddress: string, allowlist: Allowlist | readonly string[]): boolean {
  return toAllowlist(allowlist).matches(hostOrAddress);
}

// Names that only mean something inside a network (RFC 6761, RFC 8375, ICANN's .internal).
const LOCAL_NAME = /(^|\.)(localhost|local|internal|home\.arpa|localdomain|lan|intranet|corp)$/;

/**
 * Parses a webhook URL a user entered. `requireHttps` refuses plain http unless the host is
 * allowlisted. The check on the resolved address happens at connect time (createSafeLookup).
 */
export function parseWebhookUrl(
  input: string,
  { requireHttps = false, allowlist = [] }: { requireHttps?: boolean; allowlist?: Allowlist | readonly string[] } = {},
): UrlCheck {
  const trimmed = input.trim();
  if (trimmed.length === 0) return { ok: false, error: "Enter a URL." };
  if (trimmed.length > MAX_URL_LENGTH) return { ok: false, error: `URLs are at most ${MAX_URL_LENGTH} characters.` };
  // The URL parser silently drops tabs and line breaks; refuse them rather than guess.
  if ([...trimmed].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) {
    return { ok: false, error: "URLs cannot contain line breaks, tabs or control characters." };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, error: "Enter a full URL, such as https://example.com/webhooks." };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, error: "Only http and https URLs are allowed." };
  }
  if (url.username || url.password) {
    return { ok: false, error: "Credentials in the URL are not allowed; use a custom header instead." };
  }
  // `url.hash` is empty for a bare trailing "#", but the href keeps it.
  if (url.href.includes("#")) return { ok: false, error: "URLs cannot contain a #fragment." };
  if (url.href.length > MAX_URL_LENGTH) return { ok: false, error: `URLs are at most ${MAX_URL_LENGTH} characters.` };
  const host = hostOf(url);
  if (!host) return { ok: false, error: "The URL needs a host name." };

  const allowed = toAllowlist(allowlist);
  const allowlisted = allowed.matches(host);
  if (requireHttps && url.protocol !== "https:" && !allowlisted) return { ok: false, error: "Use an https URL." };
  if (parseAddress(host)) {
    if (isCloudMetadata(host)) {
      return { ok: false, error: "This is a cloud metadata address; Echo never sends webhooks there." };
    }
    if (isForbiddenAddress(host) && !allowlisted) {
      return {
        ok: false,
        error: "This address is private, loopback, link-local or reserved; Echo does not send webhooks there.",
      };
    }
    return { ok: true, url };
  }
  if (!allowlisted && (LOCAL_NAME.test(host) || !host.includes("."))) {
    return { ok: false, error: "This host name is local to a network; Echo does not send webhooks there." };
  }
  return { ok: true, url };
}

export class ForbiddenDestinationError extends Error {
  /** Matched by the HTTP sender to tell a refused address from a connection error. */
  readonly code = "ECHO_FORBIDDEN_ADDRESS";
  readonly host: string;
  readonly address: string;
  constructor(host: string, address: string) {
    super(
      `Refused to connect to ${host} (${address}): private, loopback, link-local, reserved and metadata addresses are not allowed.`,
    );
    this.name = "ForbiddenDestinationError";
    this.host = host;
    this.address = address;
  }
}

function refuses(host: string, address: string, allowlist: Allowlist): boolean {
  if (isCloudMetadata(address)) return true;
  if (!isForbiddenAddress(address)) return false;
  return !allowlist.matches(host) && !allowlist.matches(address);
}

/**
 * For a URL whose host is an IP literal (connecting to one never calls the lookup hook): the
 * error to record when Echo must not connect, or null. Null for host names too; their
 * addresses are checked by createSafeLookup.
 */
export function checkLiteralDestination(
  url: string | URL,
  allowlist: Allowlist | readonly string[],
): ForbiddenDestinationError | null {
  const host = hostOf(typeof url === "string" ? new URL(url) : url);
  if (!parseAddress(host)) return null;
  return refuses(host, host, toAllowlist(allowlist)) ? new ForbiddenDestinationError(host, host) : null;
}

export type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** The resolver createSafeLookup wraps: dns.lookup called with `{ all: true }`. Tests pass a fake. */
export type ResolveAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** dns.lookup's callback-style signatures. */
export type SafeLookup = {
  (hostname: string, callback: LookupCallback): void;
  (hostname: string, options: number | LookupOptions, callback: LookupCallback): void;
};

const systemResolver: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * A dns.lookup-compatible function for undici's `connect.lookup` (and net/tls `lookup`): it
 * resolves every address of the name, then refuses the connection (ForbiddenDestinationError,
 * code ECHO_FORBIDDEN_ADDRESS) if ANY address is forbidden, unless the host name or that
 * address is allowlisted. Refusing the whole name rather than filtering its addresses means a
 * name mixing public and internal addresses cannot win a race to the internal one. Cloud
 * metadata addresses are refused even when allowlisted. Supports `all: true` (which Node's
 * happy-eyeballs connect uses) and the single-address form.
 */
export function createSafeLookup({
  allowlist,
  lookup = systemResolver,
}: {
  allowlist: Allowlist | readonly string[];
  lookup?: ResolveAll;
}): SafeLookup {
  const allowed = toAllowlist(allowlist);
  function safeLookup(
    hostname: string,
    optionsOrCallback: number | LookupOptions | LookupCallback,
    maybeCallback?: LookupCallback,
  ): void {
    const callback = (typeof optionsOrCallback === "function" ? optionsOrCallback : maybeCallback)!;
    const options: LookupOptions =
      typeof optionsOrCallback === "number"
        ? { family: optionsOrCallback }
        : typeof optionsOrCallback === "object" && optionsOrCallback !== null
          ? optionsOrCallback
          : {};
    const fail = (error: NodeJS.ErrnoException) => callback(error, options.all ? [] : "");
    const onResolved = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (error) return fail(error);
      const list = (addresses ?? []).filter((entry) => entry && typeof entry.address === "string");
      if (list.length === 0) {
        return fail(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname }));
      }
      const refused = list.find((entry) => refuses(hostname, entry.address, allowed));
      if (refused) return fail(new ForbiddenDestinationError(hostname, refused.address));
      if (options.all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    };
    try {
      lookup(hostname, { ...options, all: true }, onResolved);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return safeLookup as SafeLookup;
}
