import type { IntegrationAuthType } from "~/generated/prisma/enums";

export type CatalogEntry = {
  slug: string;
  name: string;
  description: string;
  icon: string;
  authType: IntegrationAuthType;
  config: Record<string, unknown>;
};

/** The integrations Echo ships with. Icons are served from public/icons. */
export const INTEGRATION_CATALOG: readonly CatalogEntry[] = [
  {
    slug: "linear",
    name: "Linear",
    description: "Issues, projects and cycles from your Linear workspace.",
    icon: "/icons/linear.svg",
    authType: "OAUTH2",
    config: { scopes: ["read"] },
  },
  {
    slug: "slack",
    name: "Slack",
    description: "Channels and messages from your Slack workspace.",
    icon: "/icons/slack.svg",
    authType: "OAUTH2",
    config: { scopes: ["channels:read", "users:read"] },
  },
  {
    slug: "github",
    name: "GitHub",
    description: "Repositories, issues and pull requests from GitHub.",
    icon: "/icons/github.svg",
    authType: "OAUTH2",
    config: { scopes: ["read:user", "repo"] },
  },
  {
    slug: "postmark",
    name: "Postmark",
    description: "Transactional email: Echo checks your server API token with Postmark.",
    icon: "/icons/postmark.svg",
    authType: "API_KEY",
    config: { keyLabel: "Server API token", keyHelp: "Postmark → Servers → your server → API Tokens." },
  },
  {
    slug: "mcp",
    name: "MCP server",
    description: "Any Model Context Protocol server over Streamable HTTP.",
    icon: "/icons/mcp.svg",
    authType: "MCP",
    config: {},
  },
];
