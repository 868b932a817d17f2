import { MCP_STAND_IN_PORT, OAUTH_PROVIDER_STAND_IN_PORT, POSTMARK_STAND_IN_PORT } from "../../../playwright.config";
import { startMcpStandIn } from "../../support/stand-ins/mcp-server";
import { startOAuthProviderStandIn } from "../../support/stand-ins/oauth-provider";
import { startPostmarkStandIn } from "../../support/stand-ins/postmark";

/** Local stand-ins for the third parties the browser tests connect to. */
export default async function globalSetup() {
  const standIns = await Promise.all([
    startPostmarkStandIn({ port: POSTMARK_STAND_IN_PORT }),
    startOAuthProviderStandIn({ port: OAUTH_PROVIDER_STAND_IN_PORT }),
    startMcpStandIn({ port: MCP_STAND_IN_PORT, name: "team-docs", version: "1.4.0" }),
  ]);
  return async () => {
    await Promise.all(standIns.map((standIn) => standIn.close()));
  };
}
