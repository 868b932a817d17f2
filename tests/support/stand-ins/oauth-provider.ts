import { createHash, randomBytes } from "node:crypto";
import { listen, readBody, sendJson } from "./http";

type Grant = {
  clientId: string;
  redirectUri: string;
  challenge?: string;
  scope: string;
  user: { id: string; name: string };
};

const TOKEN_PATHS: Record<string, "standard" | "slack" | "github"> = {
  "/token": "standard",
  "/slack/oauth.v2.access": "slack",
  "/github/login/oauth/access_token": "github",
};

/**
 * An OAuth 2.0 provider standing in for Linear, Slack and GitHub: the authorization
 * endpoint approves at once (or denies), the token endpoint checks the client, the code,
 * the redirect URI and the PKCE verifier, and each provider's "who am I" API answers for
 * the token it issued. Each provider's token endpoint answers in that provider's own shape:
 * `/token` as RFC 6749 says (Linear), `/slack/oauth.v2.access` as Slack does (HTTP 200,
 * `ok`, the user token under `authed_user`), `/github/login/oauth/access_token` as GitHub
 * does (HTTP 200 even for errors).
 */
export async function startOAuthProviderStandIn({
  clientId = "echo-client",
  clientSecret = "echo-secret",
  user = { id: "user-123", name: "Ada Lovelace" },
  port = 0,
}: { clientId?: string; clientSecret?: string; user?: { id: string; name: string }; port?: number } = {}) {
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, Grant["user"]>();
  const behaviour = { deny: false, tokenError: null as string | null, pkceChecked: 0 };

  const standIn = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    if (url.pathname === "/authorize") {
      const redirectUri = url.searchParams.get("redirect_uri") ?? "";
      const back = new URL(redirectUri);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      if (behaviour.deny) back.searchParams.set("error", "access_denied");
      else {
        const code = randomBytes(12).toString("hex");
        codes.set(code, {
          clientId: url.searchParams.get("client_id") ?? "",
          redirectUri,
          challenge: url.searchParams.get("code_challenge") ?? undefined,
          scope: url.searchParams.get("user_scope") ?? url.searchParams.get("scope") ?? "",
          user,
        });
        back.searchParams.set("code", code);
      }
      res.writeHead(302, { Location: back.toString() });
      res.end();
      return;
    }
    const dialect = TOKEN_PATHS[url.pathname];
    if (dialect && req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const refuse = (error: string, description: string, status = 400) =>
        dialect === "slack"
          ? sendJson(res, 200, { ok: false, error })
          : sendJson(res, dialect === "github" ? 200 : status, { error, error_description: description });
      if (behaviour.tokenError) return refuse(behaviour.tokenError, "The stand-in was told to refuse.");
      if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret)
        return refuse("invalid_client", "Unknown client or wrong secret.", 401);
      const grant = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      if (!grant || grant.redirectUri !== form.get("redirect_uri"))
        return refuse("invalid_grant", "The code is unknown, used or for another redirect URI.");
      if (grant.challenge) {
        behaviour.pkceChecked++;
        const verifier = form.get("code_verifier") ?? "";
        if (createHash("sha256").update(verifier).digest("base64url") !== grant.challenge)
          return refuse("invalid_grant", "PKCE verification failed");
      }
      const accessToken = randomBytes(16).toString("hex");
      tokens.set(accessToken, grant.user);
      if (dialect === "slack")
        return sendJson(res, 200, {
          ok: true,
          app_id: "A0STANDIN",
          authed_user: { id: grant.user.id, scope: grant.scope, access_token: accessToken, token_type: "user" },
          team: { id: "T0001", name: "Acme" },
          enterprise: null,
          is_enterprise_install: false,
        });
      if (dialect === "github")
        return sendJson(res, 200, { access_token: accessToken, token_type: "bearer", scope: grant.scope });
      return sendJson(res, 200, { access_token: accessToken, token_type: "Bearer", expires_in: 3600, scope: "read" });
    }
    const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const who = tokens.get(bearer);
    if (url.pathname === "/graphql") {
      if (!who) return sendJson(res, 401, { errors: [{ message: "Authentication required" }] });
      return sendJson(res, 200, { data: { viewer: { id: who.id, name: who.name, email: "ada@example.com" } } });
    }
    if (url.pathname === "/auth.test") {
      if (!who) return sendJson(res, 200, { ok: false, error: "invalid_auth" });
      return sendJson(res, 200, { ok: true, user_id: who.id, team_id: "T0001", team: "Acme", user: who.name });
    }
    if (url.pathname === "/user") {
      if (!who) return sendJson(res, 401, { message: "Bad credentials" });
      return sendJson(res, 200, { id: 9001, login: "ada", name: who.name });
    }
    sendJson(res, 404, { error: "not_found" });
  }, port);
  return { ...standIn, clientId, clientSecret, behaviour };
}
