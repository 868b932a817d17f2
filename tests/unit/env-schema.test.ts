import { describe, expect, it } from "vitest";
import { parseEnv } from "~/lib/env-schema";

describe("parseEnv", () => {
  it("applies the local defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: "127.0.0.1",
      APP_URL: "http://localhost:3000",
      MCP_HOST: "localhost:3000",
      OUTBOUND_ALLOWED_HOSTS: [],
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("derives APP_URL and MCP_HOST from PORT and APP_URL", () => {
    expect(parseEnv({ PORT: "4000" }).APP_URL).toBe("http://localhost:4000");
    expect(parseEnv({ APP_URL: "https://echo.example.com" }).MCP_HOST).toBe("echo.example.com");
  });

  it("splits the outbound allowlist and refuses a typo in it at start-up", () => {
    expect(parseEnv({ OUTBOUND_ALLOWED_HOSTS: "127.0.0.1, 10.0.0.0/8 ,receiver.test" }).OUTBOUND_ALLOWED_HOSTS).toEqual(
      ["127.0.0.1", "10.0.0.0/8", "receiver.test"],
    );
    expect(() => parseEnv({ OUTBOUND_ALLOWED_HOSTS: "10.0.0.0/33" })).toThrow(/OUTBOUND_ALLOWED_HOSTS/);
  });

  it("names every invalid setting in one message", () => {
    expect(() => parseEnv({ PORT: "http", ENCRYPTION_KEY: "short", SESSION_SECRET: "tiny" })).toThrow(
      /PORT[\s\S]*SESSION_SECRET[\s\S]*ENCRYPTION_KEY|PORT[\s\S]*ENCRYPTION_KEY/,
    );
  });

  it("splits the previous encryption keys and refuses one that is not 32 bytes", () => {
    const a = Buffer.alloc(32, 1).toString("base64");
    const b = Buffer.alloc(32, 2).toString("base64");
    expect(parseEnv({}).ENCRYPTION_KEYS_PREVIOUS).toEqual([]);
    expect(parseEnv({ ENCRYPTION_KEYS_PREVIOUS: `${a}, ${b}` }).ENCRYPTION_KEYS_PREVIOUS).toEqual([a, b]);
    expect(() => parseEnv({ ENCRYPTION_KEYS_PREVIOUS: `${a},short` })).toThrow(/ENCRYPTION_KEYS_PREVIOUS: key 2/);
  });

  it("lower-cases the operator addresses and refuses one that is not an email address", () => {
    expect(parseEnv({}).ECHO_ADMIN_EMAILS).toEqual([]);
    expect(parseEnv({ ECHO_ADMIN_EMAILS: "Ops@Example.com, b@example.com" }).ECHO_ADMIN_EMAILS).toEqual([
      "ops@example.com",
      "b@example.com",
    ]);
    expect(() => parseEnv({ ECHO_ADMIN_EMAILS: "ops@example.com,not-an-address" })).toThrow(
      /ECHO_ADMIN_EMAILS: "not-an-address"/,
    );
  });

  it("links Trigger.dev runs to Trigger.dev cloud unless a dashboard URL is set", () => {
    expect(parseEnv({}).TRIGGER_DASHBOARD_URL).toBe("https://cloud.trigger.dev");
    expect(parseEnv({ TRIGGER_DASHBOARD_URL: "https://trigger.example.com" }).TRIGGER_DASHBOARD_URL).toBe(
      "https://trigger.example.com",
    );
    expect(() => parseEnv({ TRIGGER_DASHBOARD_URL: "not a url" })).toThrow(/TRIGGER_DASHBOARD_URL/);
  });
});
