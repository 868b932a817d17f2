import { parseArgs } from "node:util";
import { startMcpStandIn } from "../tests/support/stand-ins/mcp-server";
import { startOAuthProviderStandIn } from "../tests/support/stand-ins/oauth-provider";
import { startPostmarkStandIn } from "../tests/support/stand-ins/postmark";

/**
 * Local stand-ins for the third parties of the integrations, for trying the connect flows by hand:
 * `npm run stand-ins`, then start Echo with the settings printed here. Ctrl-C stops them.
 */
const { values } = parseArgs({
  options: {
    "oauth-port": { type: "string", default: "3292" },
    "postmark-port": { type: "string", default: "3291" },
    "mcp-port": { type: "string", default: "3293" },
  },
});

const [provider, postmark, mcp] = await Promise.all([
  startOAuthProviderStandIn({ port: Number(values["oauth-port"]) }),
  startPostmarkStandIn({ port: Number(values["postmark-port"]) }),
  startMcpStandIn({ port: Number(values["mcp-port"]), name: "team-docs", version: "1.4.0" }),
]);

const oauth = (prefix: string, tokenPath: string) => [
  `${prefix}_CLIENT_ID=${provider.clientId}`,
  `${prefix}_CLIENT_SECRET=${provider.clientSecret}`,
  `${prefix}_AUTHORIZE_URL=${provider.url}/authorize`,
  `${prefix}_TOKEN_URL=${provider.url}${tokenPath}`,
  `${prefix}_API_URL=${provider.url}`,
];
const settings = [
  ...oauth("LINEAR", "/token"),
  ...oauth("SLACK", "/slack/oauth.v2.access"),
  ...oauth("GITHUB", "/github/login/oauth/access_token"),
  `POSTMARK_API_URL=${postmark.url}`,
  "OUTBOUND_ALLOWED_HOSTS=127.0.0.1",
];

console.log(`Stand-ins are running:
  OAuth provider (Linear, Slack, GitHub)  ${provider.url}  (approves at once as Ada Lovelace)
  Postmark API                            ${postmark.url}  (valid server token: pm-valid-token)
  MCP server "team-docs"                  ${mcp.url}/mcp

Start Echo against them:
  ${settings.join(" \\\n  ")} \\
  npm start
`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void Promise.all([provider.close(), postmark.close(), mcp.close()]).then(() => process.exit(0));
  });
}
