import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboundFetch } from "~/services/outbound.server";
import { listen, readBody, sendJson, type StandIn } from "../support/stand-ins/http";

// outboundFetch carries Echo's requests to providers and MCP servers. The tests' allowlist
// (vitest.config.ts) admits 127.0.0.1 and localhost; nothing else private is reachable.

let target: StandIn;
let redirector: StandIn;
const seen: { method: string; path: string; authorization?: string; body: string }[] = [];

beforeAll(async () => {
  target = await listen(async (req, res) => {
    seen.push({
      method: req.method!,
      path: req.url!,
      authorization: req.headers.authorization,
      body: await readBody(req),
    });
    sendJson(res, 200, { ok: true });
  });
  redirector = await listen((req, res) => {
    const url = new URL(req.url!, "http://redirector");
    const to = url.searchParams.get("to")!;
    res.writeHead(Number(url.searchParams.get("status") ?? 302), { Location: to });
    res.end();
  });
});

afterAll(async () => {
  await Promise.all([target.close(), redirector.close()]);
});

const via = (to: string, status = 302) => `${redirector.url}/?${new URLSearchParams({ to, status: String(status) })}`;

describe("outboundFetch", () => {
  it("refuses a redirect to the cloud metadata address without connecting", async () => {
    await expect(outboundFetch(via("http://169.254.169.254/latest/meta-data/"))).rejects.toMatchObject({
      code: "ECHO_FORBIDDEN_ADDRESS",
    });
  });

  it("refuses a redirect to a private address that is not allowlisted", async () => {
    await expect(outboundFetch(via("http://10.0.0.7/admin"))).rejects.toMatchObject({
      code: "ECHO_FORBIDDEN_ADDRESS",
      message: expect.stringContaining("10.0.0.7"),
    });
    await expect(outboundFetch(via("http://[::ffff:10.0.0.7]/admin"))).rejects.toMatchObject({
      code: "ECHO_FORBIDDEN_ADDRESS",
    });
  });

  it("follows a redirect to an allowed destination, without the credential headers when the origin changes", async () => {
    seen.length = 0;
    const response = await outboundFetch(via(`${target.url}/who`), {
      headers: {
        Authorization: "Bearer secret-token",
        "X-Postmark-Server-Token": "pm-secret",
        Accept: "application/json",
      },
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual([{ method: "GET", path: "/who", authorization: undefined, body: "" }]);
  });

  it("keeps a POST's method and body on 307 and turns it into a GET on 303", async () => {
    seen.length = 0;
    await outboundFetch(via(`${target.url}/token`, 307), { method: "POST", body: "code=abc" });
    await outboundFetch(via(`${target.url}/done`, 303), { method: "POST", body: "code=abc" });
    expect(seen).toEqual([
      { method: "POST", path: "/token", authorization: undefined, body: "code=abc" },
      { method: "GET", path: "/done", authorization: undefined, body: "" },
    ]);
  });

  it("gives up after five redirects", async () => {
    let loop = `${target.url}/never`;
    for (let i = 0; i < 7; i++) loop = via(loop);
    await expect(outboundFetch(loop)).rejects.toThrow("Too many redirects");
  });

  it("hands a redirect back untouched when the caller follows redirects itself", async () => {
    const response = await outboundFetch(via(`${target.url}/x`), { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${target.url}/x`);
  });
});
