import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoServer, type RunningEcho } from "../support/echo-server";

let echo: RunningEcho;

beforeAll(async () => {
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "false" } });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
});

describe("security headers", () => {
  it("allow only scripts carrying this response's nonce, forbid framing and limit the referrer", async () => {
    const first = await fetch(`${echo.url}/login`);
    const csp = first.headers.get("content-security-policy") ?? "";
    const nonce = csp.match(/'nonce-([^']+)'/)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(first.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    // Plain http here: HSTS would be wrong, and is only sent when APP_URL is https.
    expect(first.headers.get("strict-transport-security")).toBeNull();
    expect(first.headers.get("x-powered-by")).toBeNull();

    const html = await first.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) {
      if (!tag.includes(" src=") && !tag.includes('type="module"')) expect(tag).toContain(`nonce="${nonce}"`);
    }

    const second = await fetch(`${echo.url}/login`);
    expect(second.headers.get("content-security-policy")).not.toContain(nonce!);
  });

  it("sends HSTS when Echo is served over https", async () => {
    const https = await startEchoServer({
      databaseUrl: process.env.DATABASE_URL as string,
      env: { SEED_DEMO_DATA: "false", APP_URL: "https://echo.example.com" },
    });
    try {
      const response = await fetch(`${https.url}/login`);
      expect(response.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    } finally {
      await https.stop();
    }
  }, 60_000);
});
