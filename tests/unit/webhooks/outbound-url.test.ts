import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import {
  checkLiteralDestination,
  createSafeLookup,
  isAllowlisted,
  isForbiddenAddress,
  parseWebhookUrl,
} from "~/lib/webhooks/outbound-url";

describe("parseWebhookUrl", () => {
  it("accepts public http(s) URLs", () => {
    expect(parseWebhookUrl("https://hooks.example.com/echo?x=1")).toMatchObject({ ok: true });
    expect(parseWebhookUrl("http://hooks.example.com/echo")).toMatchObject({ ok: true });
  });

  it.each([
    ["ftp://example.com/x", "Only http and https"],
    ["javascript:alert(1)", "Only http and https"],
    ["file:///etc/passwd", "Only http and https"],
    ["https://user:pass@example.com/", "Credentials"],
    ["https://example.com/#frag", "fragment"],
    ["not a url", "full URL"],
    ["", "Enter a URL"],
    [`https://example.com/${"a".repeat(2100)}`, "at most"],
  ])("refuses %s", (input, message) => {
    const result = parseWebhookUrl(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it.each([
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://localhost/",
    "http://printer.local/",
  ])("refuses the internal destination %s", (input) => {
    expect(parseWebhookUrl(input).ok).toBe(false);
  });

  it("requires https when asked, unless the host is allowlisted", () => {
    expect(parseWebhookUrl("http://example.com/", { requireHttps: true }).ok).toBe(false);
    expect(parseWebhookUrl("http://127.0.0.1:4000/", { requireHttps: true, allowlist: ["127.0.0.1"] }).ok).toBe(true);
  });
});

describe("isForbiddenAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.31.255.255",
    "192.168.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fc00::1",
    "fe80::1",
    "::ffff:10.0.0.1",
    "::ffff:7f00:1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "::127.0.0.1",
    "not-an-ip",
  ])("forbids %s", (address) => expect(isForbiddenAddress(address)).toBe(true));
  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("allows %s", (address) =>
    expect(isForbiddenAddress(address)).toBe(false),
  );
});

describe("allowlist", () => {
  it("matches IPs, CIDRs and host names", () => {
    expect(isAllowlisted("127.0.0.1", ["127.0.0.0/8"])).toBe(true);
    expect(isAllowlisted("127.9.9.9", ["127.0.0.1"])).toBe(false);
    expect(isAllowlisted("::ffff:127.0.0.1", ["127.0.0.1"])).toBe(true);
    expect(isAllowlisted("[::1]", ["::1"])).toBe(true);
    expect(isAllowlisted("receiver.test", ["receiver.test"])).toBe(true);
    expect(isAllowlisted("evil.receiver.test", ["receiver.test"])).toBe(false);
  });

  it("checks IP-literal destinations that never go through DNS", () => {
    expect(checkLiteralDestination("http://127.0.0.1:8080/x", [])).not.toBeNull();
    expect(checkLiteralDestination("http://127.0.0.1:8080/x", ["127.0.0.1"])).toBeNull();
    expect(checkLiteralDestination("https://example.com/", [])).toBeNull();
  });
});

describe("createSafeLookup", () => {
  function resolver(addresses: string[]) {
    return (
      _host: string,
      _options: unknown,
      callback: (error: NodeJS.ErrnoException | null, result: LookupAddress[]) => void,
    ) =>
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
      );
  }

  function run(lookup: ReturnType<typeof createSafeLookup>, all: boolean) {
    return new Promise<{ error: Error | null; result: unknown }>((resolve) =>
      lookup("hooks.example.com", { all }, (error, result) => resolve({ error, result })),
    );
  }

  it("passes public addresses through, in both calling styles", async () => {
    const lookup = createSafeLookup({ allowlist: [], lookup: resolver(["93.184.216.34"]) as never });
    expect(await run(lookup, false)).toEqual({ error: null, result: "93.184.216.34" });
    expect(await run(lookup, true)).toEqual({ error: null, result: [{ address: "93.184.216.34", family: 4 }] });
  });

  it("refuses a name that resolves to an internal address (DNS rebinding)", async () => {
    for (const address of ["127.0.0.1", "169.254.169.254", "10.0.0.1", "::1"]) {
      const lookup = createSafeLookup({ allowlist: [], lookup: resolver(["93.184.216.34", address]) as never });
      const { error } = await run(lookup, true);
      expect(error?.message).toContain(address);
    }
  });

  it("allows allowlisted addresses and hosts", async () => {
    const byAddress = createSafeLookup({ allowlist: ["127.0.0.0/8"], lookup: resolver(["127.0.0.1"]) as never });
    expect((await run(byAddress, false)).error).toBeNull();
    const byHost = createSafeLookup({ allowlist: ["hooks.example.com"], lookup: resolver(["10.0.0.1"]) as never });
    expect((await run(byHost, false)).error).toBeNull();
  });
});
