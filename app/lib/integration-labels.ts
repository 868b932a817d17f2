import type { IntegrationAuthType } from "~/generated/prisma/enums";

/** How each way of connecting is named in the UI. */
export const AUTH_TYPE_LABEL: Record<IntegrationAuthType, string> = {
  OAUTH2: "OAuth 2.0",
  API_KEY: "API key",
  MCP: "MCP server",
};
