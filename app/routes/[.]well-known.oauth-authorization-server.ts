import { env } from "~/env.server";
import { SUPPORTED_SCOPES } from "~/lib/oauth-scopes";

/** RFC 8414 authorization server metadata. */
export function loader() {
  const issuer = env.APP_URL.replace(/\/$/, "");
  return Response.json(
    {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      scopes_supported: SUPPORTED_SCOPES,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    },
    { headers: { "Cache-Control": "public, max-age=300" } },
  );
}
