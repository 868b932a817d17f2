import type { LookupAddress, LookupOptions } from "node:dns";
import fc from "fast-check";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import {
  checkLiteralDestination,
  compileAllowlist,
  createSafeLookup,
  forbiddenAddressReason,
  ForbiddenDestinationError,
  hostOf,
  InvalidAllowlistError,
  isAllowlisted,
  isForbiddenAddress,
  parseAllowlistEntry,
  parseWebhookUrl,
  type ResolveAll,
  type SafeLookup,
} from "~/lib/webhooks/outbound-url";

function refusal(input: string, options?: Parameters<typeof parseWebhookUrl>[1]): string {
  const result = parseWebhookUrl(input, options);
  expect(result.ok, input).toBe(false);
  return result.ok ? "" : result.error;
}

describe("parseWebhookUrl", () => {
  it.each([
    "https://hooks.example.com/echo?x=1",
    "http://hooks.example.com/echo",
    "https://hooks.example.com:8443/a/b",
    "https://93.184.216.34/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://bücher.example/hook",
  ])("accepts the public URL %s", (input) => {
    expect(parseWebhookUrl(input)).toMatchObject({ ok: true });
  });

  it("returns the parsed, normalised URL", () => {
    const result = parseWebhookUrl("  HTTPS://Hooks.Example.COM/Echo  ");
    expect(result.ok && result.url.href).toBe("https://hooks.example.com/Echo");
  });

  it.each([
    ["", "Enter a URL"],
    ["   ", "Enter a URL"],
    ["not a url", "full URL"],
    ["/relative/path", "full URL"],
    ["ftp://example.com/x", "Only http and https"],
    ["javascript:alert(1)", "Only http and https"],
    ["file:///etc/passwd", "Only http and https"],
    ["data:text/plain,hi", "Only http and https"],
    ["ws://example.com/", "Only http and https"],
    ["https://user:pass@example.com/", "Credentials"],
    ["https://user@example.com/", "Credentials"],
    ["https://:pass@example.com/", "Credentials"],
    ["https://example.com/#frag", "fragment"],
    ["https://example.com/#", "fragment"],
    ["https://exa\tmple.com/", "control characters"],
    ["https://example.com/\nx", "control characters"],
    [`https://example.com/${"a".repeat(2100)}`, "at most 2048"],
  ])("refuses %j", (input, message) => {
    expect(refusal(input)).toContain(message);
  });

  it("counts the length after normalisation too", () => {
    // 700 spaces become 2100 characters of %20.
    expect(refusal(`https://example.com/${" ".repeat(700)}x`)).toContain("at most 2048");
  });

  it.each([
    ["http://127.0.0.1/", "loopback"],
    ["http://2130706433/", "decimal"],
    ["http://0177.0.0.1/", "octal"],
    ["http://0x7f.0.0.1/", "hex"],
    ["http://0x7f000001/", "hex, one number"],
    ["http://127.1/", "short form"],
    ["http://127.0.0.1./", "trailing dot"],
    ["http://0/", "zero"],
    ["http://0.0.0.0/", "unspecified"],
    ["http://[::1]/", "IPv6 loopback"],
    ["http://[::]/", "IPv6 unspecified"],
    ["http://[::ffff:127.0.0.1]/", "IPv4-mapped"],
    ["http://[::ffff:7f00:1]/", "IPv4-mapped, hex"],
    ["http://[64:ff9b::127.0.0.1]/", "NAT64 of loopback"],
    ["http://[2002:7f00:1::]/", "6to4 of loopback"],
    ["http://10.0.0.5/", "private"],
    ["http://172.16.3.4/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://100.64.1.1/", "CGNAT"],
    ["http://[fd12:3456::1]/", "unique local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://169.254.10.10/", "link-local"],
    ["http://224.0.0.1/", "multicast"],
    ["http://255.255.255.255/", "broadcast"],
  ])("refuses the internal address %s (%s)", (input) => {
    expect(refusal(input)).toContain("private, loopback, link-local or reserved");
  });

  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",
    "http://[fd00:ec2::254]/",
    "http://168.63.129.16/",
  ])("refuses the cloud metadata address %s, even when allowlisted", (input) => {
    expect(refusal(input)).toContain("metadata");
    expect(refusal(input, { allowlist: ["0.0.0.0/0", "::/0", "169.254.0.0/16"] })).toContain("metadata");
  });

  it.each([
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://router.home.arpa/",
    "http://intranet/",
    "http://receiver:8080/",
  ])("refuses the network-local name %s", (input) => {
    expect(refusal(input)).toContain("local to a network");
  });

  it("allows internal destinations that are allowlisted", () => {
    expect(parseWebhookUrl("http://127.0.0.1:4000/", { allowlist: ["127.0.0.1"] }).ok).toBe(true);
    expect(parseWebhookUrl("http://10.1.2.3/", { allowlist: ["10.0.0.0/8"] }).ok).toBe(true);
    expect(parseWebhookUrl("http://localhost:3000/", { allowlist: ["localhost"] }).ok).toBe(true);
    expect(parseWebhookUrl("http://receiver:8080/", { allowlist: compileAllowlist(["receiver"]) }).ok).toBe(true);
  });

  it("requires https when asked", () => {
    expect(refusal("http://example.com/", { requireHttps: true })).toBe("Use an https URL.");
    expect(parseWebhookUrl("https://example.com/", { requireHttps: true }).ok).toBe(true);
  });

  it("lets an allowlisted host use plain http even when https is required", () => {
    expect(parseWebhookUrl("http://127.0.0.1:4000/", { requireHttps: true, allowlist: ["127.0.0.1"] }).ok).toBe(true);
    expect(parseWebhookUrl("http://hooks.test/", { requireHttps: true, allowlist: ["hooks.test"] }).ok).toBe(true);
  });
});

describe("IP literal tricks, as WHATWG URL parsing normalises them", () => {
  it.each([
    ["http://2130706433/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://0x7f.0.0.1/", "127.0.0.1"],
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://127.0.1/", "127.0.0.1"],
    ["http://①②⑦.0.0.1/", "127.0.0.1"],
    ["http://0251.0376.0251.0376/", "169.254.169.254"],
    ["http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"],
    ["http://[0:0:0:0:0:ffff:7f00:0001]/", "::ffff:7f00:1"],
  ])("%s is host %s, which is forbidden", (input, host) => {
    const url = new URL(input);
    expect(hostOf(url)).toBe(host);
    expect(isForbiddenAddress(hostOf(url))).toBe(true);
    expect(parseWebhookUrl(input).ok).toBe(false);
  });

  it.each(["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "017700000001"])(
    "isForbiddenAddress reads the inet_aton form %s itself too",
    (literal) => expect(forbiddenAddressReason(literal)).toBe("loopback"),
  );
});

describe("isForbiddenAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["fec0::1", "private"],
    ["169.254.1.1", "link_local"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf::1", "link_local"],
    ["169.254.169.254", "cloud_metadata"],
    ["169.254.170.2", "cloud_metadata"],
    ["fd00:ec2::254", "cloud_metadata"],
    ["100.100.100.200", "cloud_metadata"],
    ["168.63.129.16", "cloud_metadata"],
    ["::ffff:169.254.169.254", "cloud_metadata"],
    ["100.64.0.1", "carrier_grade_nat"],
    ["100.127.255.255", "carrier_grade_nat"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["203.0.113.9", "reserved"],
    ["2001:db8::1", "reserved"],
    ["100::1", "reserved"],
    ["4000::1", "reserved"],
    ["fc00::1", "unique_local"],
    ["fdff:ffff::1", "unique_local"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::127.0.0.1", "ipv4_compatible"],
    ["::8.8.8.8", "ipv4_compatible"],
    ["::ffff:0:7f00:1", "ipv4_translated"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::169.254.169.254", "cloud_metadata"],
    ["64:ff9b:1::8.8.8.8", "nat64_local_use"],
    ["2002:7f00:1::", "loopback"],
    ["2002:a00:1::1", "private"],
    ["2002:a9fe:a9fe::", "cloud_metadata"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"],
    ["not-an-ip", "not_an_ip"],
    ["example.com", "not_an_ip"],
    ["", "not_an_ip"],
    ["1.2.3.4.5", "not_an_ip"],
    ["::ffff:0177.0.0.1", "not_an_ip"],
    ["::ffff:1.2.3.256", "not_an_ip"],
  ])("forbids %s (%s)", (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "169.253.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:81b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "[2606:4700:4700::1111]",
  ])("allows the public address %s", (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it("judges an IPv4 address and its mapped, NAT64 and 6to4 forms alike", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
        const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
        const expected = isForbiddenAddress(v4);
        expect(isForbiddenAddress(`::ffff:${v4}`)).toBe(expected);
        expect(isForbiddenAddress(`::ffff:${hex(a, b)}:${hex(c, d)}`)).toBe(expected);
        expect(isForbiddenAddress(`64:ff9b::${v4}`)).toBe(expected);
        expect(isForbiddenAddress(`2002:${hex(a, b)}:${hex(c, d)}::1`)).toBe(expected);
      }),
      { numRuns: 1_000 },
    );
  });

  it("forbids every address of every private, loopback, link-local and CGNAT range", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, (x, y, z) => {
        for (const address of [
          `10.${x}.${y}.${z}`,
          `127.${x}.${y}.${z}`,
          `172.${16 + (x % 16)}.${y}.${z}`,
          `192.168.${y}.${z}`,
          `169.254.${y}.${z}`,
          `100.${64 + (x % 64)}.${y}.${z}`,
          `0.${x}.${y}.${z}`,
          `${224 + (x % 32)}.${y}.${z}.1`,
        ]) {
          expect(isForbiddenAddress(address), address).toBe(true);
        }
      }),
    );
  });

  it("forbids anything that is not an IP address", () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        fc.pre(!/^[\d.]+$/.test(domain));
        expect(isForbiddenAddress(domain)).toBe(true);
      }),
    );
  });
});

describe("allowlist", () => {
  it("matches exact IPs", () => {
    expect(isAllowlisted("127.0.0.1", ["127.0.0.1"])).toBe(true);
    expect(isAllowlisted("127.0.0.2", ["127.0.0.1"])).toBe(false);
    expect(isAllowlisted("::1", ["::1"])).toBe(true);
    expect(isAllowlisted("[::1]", ["::1"])).toBe(true);
    expect(isAllowlisted("::1", ["[::1]"])).toBe(true);
    expect(isAllowlisted("0:0:0:0:0:0:0:1", ["::1"])).toBe(true);
  });

  it("matches CIDRs", () => {
    expect(isAllowlisted("127.9.9.9", ["127.0.0.0/8"])).toBe(true);
    expect(isAllowlisted("128.0.0.1", ["127.0.0.0/8"])).toBe(false);
    expect(isAllowlisted("10.20.30.40", ["10.20.0.0/16"])).toBe(true);
    expect(isAllowlisted("10.21.0.1", ["10.20.0.0/16"])).toBe(false);
    expect(isAllowlisted("fd00::5", ["fd00::/8"])).toBe(true);
    expect(isAllowlisted("fe00::5", ["fd00::/8"])).toBe(false);
  });

  it("matches an IPv4-mapped IPv6 address by its IPv4 address", () => {
    expect(isAllowlisted("::ffff:127.0.0.1", ["127.0.0.1"])).toBe(true);
    expect(isAllowlisted("::ffff:7f00:1", ["127.0.0.0/8"])).toBe(true);
  });

  it("never matches an IPv6 address against an IPv4 range or the other way round", () => {
    expect(isAllowlisted("::1", ["127.0.0.0/8"])).toBe(false);
    expect(isAllowlisted("127.0.0.1", ["::/0"])).toBe(false);
  });

  it("matches host names exactly, ignoring case and a trailing dot", () => {
    expect(isAllowlisted("receiver.test", ["receiver.test"])).toBe(true);
    expect(isAllowlisted("Receiver.TEST.", ["receiver.test"])).toBe(true);
    expect(isAllowlisted("receiver.test", ["RECEIVER.test."])).toBe(true);
    expect(isAllowlisted("evil.receiver.test", ["receiver.test"])).toBe(false);
    expect(isAllowlisted("receiver.test.evil.com", ["receiver.test"])).toBe(false);
    expect(isAllowlisted("localhost", ["localhost"])).toBe(true);
  });

  it("does not let a host-name entry match an IP or the reverse", () => {
    expect(isAllowlisted("127.0.0.1", ["localhost"])).toBe(false);
    expect(isAllowlisted("localhost", ["127.0.0.1"])).toBe(false);
  });

  it("matches nothing when empty", () => {
    expect(isAllowlisted("127.0.0.1", [])).toBe(false);
    expect(compileAllowlist(["", " "]).entries).toHaveLength(0);
  });

  it("sees a list changed in place, and compiles a frozen (configured) list once", () => {
    const editable = ["10.0.0.1"];
    expect(checkLiteralDestination("http://10.0.0.2/hook", editable)).toBeInstanceOf(ForbiddenDestinationError);
    editable.push("10.0.0.2");
    expect(checkLiteralDestination("http://10.0.0.2/hook", editable)).toBeNull();

    const configured = Object.freeze(["10.0.0.0/8"]);
    expect(checkLiteralDestination("http://10.1.2.3/hook", configured)).toBeNull();
    expect(checkLiteralDestination("http://192.168.0.1/hook", configured)).toBeInstanceOf(ForbiddenDestinationError);
  });

  it("parses each kind of entry", () => {
    expect(parseAllowlistEntry(" 10.0.0.0/8 ")).toMatchObject({
      ok: true,
      entry: { kind: "cidr", source: "10.0.0.0/8" },
    });
    expect(parseAllowlistEntry("::1")).toMatchObject({ ok: true, entry: { kind: "cidr" } });
    expect(parseAllowlistEntry("Receiver.Internal")).toMatchObject({
      ok: true,
      entry: { kind: "host", host: "receiver.internal" },
    });
  });

  it.each([
    "10.0.0.0/33",
    "10.0.0.0/x",
    "localhost:3000",
    "*.example.com",
    "http://example.com",
    "a b",
    "-bad.example",
  ])("refuses the entry %j", (entry) => {
    expect(parseAllowlistEntry(entry).ok).toBe(false);
  });

  it("compiles once and reports every bad entry together", () => {
    try {
      compileAllowlist(["127.0.0.1", "10.0.0.0/33", "localhost:3000"]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidAllowlistError);
      expect((error as InvalidAllowlistError).errors).toHaveLength(2);
      expect((error as Error).message).toContain("10.0.0.0/33");
      expect((error as Error).message).toContain("localhost:3000");
    }
  });
});

describe("checkLiteralDestination", () => {
  it("refuses internal IP literals, which never go through the lookup hook", () => {
    const error = checkLiteralDestination("http://127.0.0.1:8080/x", []);
    expect(error).toBeInstanceOf(ForbiddenDestinationError);
    expect(error?.code).toBe("ECHO_FORBIDDEN_ADDRESS");
    expect(checkLiteralDestination("http://[::ffff:10.0.0.1]/", [])).not.toBeNull();
    expect(checkLiteralDestination(new URL("http://2130706433/"), [])).not.toBeNull();
  });

  it("allows allowlisted literals", () => {
    expect(checkLiteralDestination("http://127.0.0.1:8080/x", ["127.0.0.1"])).toBeNull();
    expect(checkLiteralDestination("http://[::1]:8080/x", ["::1"])).toBeNull();
  });

  it("refuses cloud metadata literals even when allowlisted", () => {
    expect(checkLiteralDestination("http://169.254.169.254/", ["169.254.0.0/16"])).not.toBeNull();
  });

  it("leaves public literals and host names alone (host names are checked at lookup)", () => {
    expect(checkLiteralDestination("https://93.184.216.34/", [])).toBeNull();
    expect(checkLiteralDestination("https://example.com/", [])).toBeNull();
    expect(checkLiteralDestination("http://localhost/", [])).toBeNull();
  });
});

describe("createSafeLookup", () => {
  type Call = { hostname: string; options: LookupOptions };

  /** A fake resolver: each call answers with the next list of addresses (the last repeats). */
  function resolver(...answers: string[][]): ResolveAll & { calls: Call[] } {
    const calls: Call[] = [];
    const fake = ((hostname, options, callback) => {
      calls.push({ hostname, options });
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)] ?? [];
      queueMicrotask(() =>
        callback(
          null,
          answer.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 })),
        ),
      );
    }) as ResolveAll & { calls: Call[] };
    fake.calls = calls;
    return fake;
  }

  type Outcome = { error: NodeJS.ErrnoException | null; address: unknown; family?: number };

  function run(lookup: SafeLookup, options: LookupOptions | number | undefined, hostname = "hooks.example.com") {
    return new Promise<Outcome>((resolve) => {
      const callback = (error: NodeJS.ErrnoException | null, address: unknown, family?: number) =>
        resolve({ error, address, family });
      if (options === undefined) lookup(hostname, callback);
      else lookup(hostname, options, callback);
    });
  }

  it("answers with the first address when all is not set", async () => {
    const lookup = createSafeLookup({ allowlist: [], lookup: resolver(["93.184.216.34", "2606:4700::1"]) });
    expect(await run(lookup, {})).toEqual({ error: null, address: "93.184.216.34", family: 4 });
  });

  it("answers with every address when all is set (as Node's happy-eyeballs connect asks)", async () => {
    const lookup = createSafeLookup({ allowlist: [], lookup: resolver(["93.184.216.34", "2606:4700::1"]) });
    expect(await run(lookup, { all: true })).toEqual({
      error: null,
      address: [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:4700::1", family: 6 },
      ],
      family: undefined,
    });
  });

  it("supports dns.lookup's (hostname, callback) and (hostname, family, callback) forms", async () => {
    const fake = resolver(["93.184.216.34"]);
    const lookup = createSafeLookup({ allowlist: [], lookup: fake });
    expect(await run(lookup, undefined)).toMatchObject({ error: null, address: "93.184.216.34" });
    expect(await run(lookup, 4)).toMatchObject({ error: null, address: "93.184.216.34" });
    expect(fake.calls[1]!.options).toEqual({ family: 4, all: true });
  });

  it("passes the caller's options through to the resolver, always asking for every address", async () => {
    const fake = resolver(["93.184.216.34"]);
    await run(createSafeLookup({ allowlist: [], lookup: fake }), { family: 6, hints: 32 });
    expect(fake.calls[0]).toEqual({ hostname: "hooks.example.com", options: { family: 6, hints: 32, all: true } });
  });

  it.each(["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "100.100.100.200"])(
    "refuses a name that resolves to %s",
    async (address) => {
      const lookup = createSafeLookup({ allowlist: [], lookup: resolver([address]) });
      const { error, address: result } = await run(lookup, {});
      expect(error).toBeInstanceOf(ForbiddenDestinationError);
      expect(error?.code).toBe("ECHO_FORBIDDEN_ADDRESS");
      expect(error?.message).toContain(address);
      expect(error?.message).toContain("hooks.example.com");
      expect(result).toBe("");
    },
  );

  it("refuses the whole name when any of its addresses is internal, even if a public one comes first", async () => {
    const lookup = createSafeLookup({ allowlist: [], lookup: resolver(["93.184.216.34", "127.0.0.1"]) });
    const { error, address } = await run(lookup, { all: true });
    expect(error).toBeInstanceOf(ForbiddenDestinationError);
    expect(address).toEqual([]);
  });

  it("defeats DNS rebinding: the address is checked on every connect, not once", async () => {
    const lookup = createSafeLookup({ allowlist: [], lookup: resolver(["93.184.216.34"], ["127.0.0.1"]) });
    expect((await run(lookup, {})).error).toBeNull();
    expect((await run(lookup, {})).error).toBeInstanceOf(ForbiddenDestinationError);
  });

  it("allows internal addresses that are allowlisted, by address or CIDR", async () => {
    const lookup = createSafeLookup({ allowlist: ["127.0.0.0/8", "::1"], lookup: resolver(["127.0.0.1", "::1"]) });
    expect(await run(lookup, { all: true })).toMatchObject({ error: null });
  });

  it("allows any address of an allowlisted host name", async () => {
    const lookup = createSafeLookup({ allowlist: ["receiver.internal"], lookup: resolver(["10.0.0.1"]) });
    expect(await run(lookup, {}, "receiver.internal")).toMatchObject({ error: null, address: "10.0.0.1" });
    expect((await run(lookup, {}, "other.internal")).error).toBeInstanceOf(ForbiddenDestinationError);
  });

  it("refuses cloud metadata even for an allowlisted host name", async () => {
    const lookup = createSafeLookup({
      allowlist: ["receiver.internal", "169.254.0.0/16"],
      lookup: resolver(["169.254.169.254"]),
    });
    expect((await run(lookup, {}, "receiver.internal")).error).toBeInstanceOf(ForbiddenDestinationError);
  });

  it("passes resolver errors through unchanged", async () => {
    const failure = Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.example"), { code: "ENOTFOUND" });
    const lookup = createSafeLookup({
      allowlist: [],
      lookup: (_hostname, _options, callback) => callback(failure, []),
    });
    expect(await run(lookup, { all: true })).toEqual({ error: failure, address: [], family: undefined });
  });

  it("reports ENOTFOUND when the resolver answers with no address", async () => {
    const lookup = createSafeLookup({ allowlist: [], lookup: resolver([]) });
    const { error } = await run(lookup, {});
    expect(error?.code).toBe("ENOTFOUND");
  });

  it("turns a resolver that throws into an error for the caller", async () => {
    const lookup = createSafeLookup({
      allowlist: [],
      lookup: () => {
        throw new TypeError("bad hostname");
      },
    });
    expect((await run(lookup, {})).error).toBeInstanceOf(TypeError);
  });

  it("refuses to start with an invalid allowlist", () => {
    expect(() => createSafeLookup({ allowlist: ["10.0.0.0/99"] })).toThrow(InvalidAllowlistError);
  });

  it("fits undici's connect.lookup option", async () => {
    const agent = new Agent({
      connect: { lookup: createSafeLookup({ allowlist: [], lookup: resolver(["8.8.8.8"]) }) },
    });
    await agent.close();
  });

  it("never lets a forbidden address through without an allowlist, whatever the resolver says", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 4 }), async (addresses) => {
        const lookup = createSafeLookup({ allowlist: [], lookup: resolver(addresses) });
        const { error } = await run(lookup, { all: true });
        expect(error === null).toBe(addresses.every((address) => !isForbiddenAddress(address)));
      }),
    );
  });
});
