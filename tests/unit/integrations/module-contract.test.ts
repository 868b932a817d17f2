import { describe, expect, it } from "vitest";
import { mcpAccountId } from "~/integrations/mcp";
import { errorMessage, unavailableMessage, unexpectedAnswerMessage } from "~/integrations/types";

describe("mcpAccountId", () => {
  const id = (url: string) => mcpAccountId(new URL(url));

  it("is the same for the same server however the URL is typed", () => {
    const base = id("https://mcp.example.com/mcp");
    expect(id("https://mcp.example.com/mcp/")).toBe(base);
    expect(id("https://MCP.Example.com/mcp//")).toBe(base);
    expect(id("https://mcp.example.com/mcp?session=1")).toBe(base);
    expect(id("https://mcp.example.com:443/mcp")).toBe(base);
  });

  it("differs for another path, port, scheme or host", () => {
    const base = id("https://mcp.example.com/mcp");
    for (const other of [
      "https://mcp.example.com/other",
      "https://mcp.example.com:8443/mcp",
      "http://mcp.example.com/mcp",
      "https://tools.example.com/mcp",
    ])
      expect(id(other)).not.toBe(base);
  });

  it("is 24 lower-case hex characters, safe in an mcp:// endpoint", () => {
    expect(id("https://mcp.example.com/mcp")).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe("error messages", () => {
  it("marks the provider's passing trouble (429, 5xx, unreachable) as retryable, and nothing else", () => {
    expect(unexpectedAnswerMessage("x", 503).data.retryable).toBe(true);
    expect(unexpectedAnswerMessage("x", 429).data.retryable).toBe(true);
    expect(unexpectedAnswerMessage("x", 401).data.retryable).toBeUndefined();
    expect(unexpectedAnswerMessage("x", 200).data.retryable).toBeUndefined();
    expect(unavailableMessage("down", "url").data).toEqual({ message: "down", field: "url", retryable: true });
    expect(errorMessage("wrong key", "apiKey").data).toEqual({ message: "wrong key", field: "apiKey" });
  });
});
