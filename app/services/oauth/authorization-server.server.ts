import OAuth2Server, {
  Request as OAuthRequest,
  Response as OAuthResponse,
  OAuthError,
} from "@node-oauth/oauth2-server";
import { dispatchEventsOf } from "~/services/webhooks/publish.server";
import { grantEventSource, recordGrantEvent } from "./grant-events.server";
import { prisma, type Database } from "~/db.server";
import { isSupportedScope, parseScopeParam } from "~/lib/oauth-scopes";
import { logger } from "~/logger.server";
import { AUTHORIZATION_CODE_LIFETIME_SECONDS, createOAuthModel } from "./model.server";
import { hashToken, matchesHash } from "./tokens.server";

/**
 * Echo's OAuth 2.0 authorization server, on @node-oauth/oauth2-server (RFC 6749 code grant,
 * RFC 7636 PKCE with S256 only, refresh-token rotation). Remix routes call these functions
 * with the web Request; this file adapts it to the library and its answers back.
 */
function server(db: Database, authenticateClients: boolean) {
  return new OAuth2Server({
    model: createOAuthModel(db, { authenticateClients }) as never,
    allowEmptyState: true,
    authorizationCodeLifetime: AUTHORIZATION_CODE_LIFETIME_SECONDS,
    // Confidential clients are checked in the model; public ones prove themselves with PKCE.
    requireClientAuthentication: { authorization_code: false, refresh_token: false },
    alwaysIssueNewRefreshToken: true,
  });
}

export type AuthorizationRequest = {
  client: { dbId: string; clientId: string; name: string };
  scopes: string[];
  redirectUri: string;
  state: string | null;
  codeChallenge: string | null;
};

/** The parameters Echo reads; RFC 6749 §3.1: none may appear more than once. */
const AUTHORIZATION_PARAMS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
] as const;

export type AuthorizationCheck =
  | { ok: true; request: AuthorizationRequest }
  /** The redirect URI itself is not trusted: tell the user, never redirect. */
  | { ok: false; kind: "page"; error: string }
  | { ok: false; kind: "redirect"; location: string };

function errorRedirect(redirectUri: string, state: string | null, error: string, description: string): string {
  const url = new URL(redirectUri);
  url.searchParams.set("error", error);
  url.searchParams.set("error_description", description);
  if (state) url.searchParams.set("state", state);
  return url.toString();
}

/** Everything checked before showing the consent screen, in RFC 6749 §4.1.2.1's order. */
export async function checkAuthorizationRequest(url: URL, db: Database = prisma): Promise<AuthorizationCheck> {
  const params = url.searchParams;
  const repeated = AUTHORIZATION_PARAMS.filter((name) => params.getAll(name).length > 1);
  const clientId = params.get("client_id");
  if (!clientId) return { ok: false, kind: "page", error: "The request names no application (client_id is missing)." };
  if (repeated.includes("client_id"))
    return { ok: false, kind: "page", error: "The request names more than one application (client_id is repeated)." };
  const client = await db.oAuthClient.findFirst({
    where: { clientId, deletedAt: null },
    select: { id: true, clientId: true, name: true, clientType: true, redirectUris: true, allowedScopes: true },
  });
  if (!client) return { ok: false, kind: "page", error: "This application is not registered with Echo." };
  // Required, even with one registered URI: the token request must then repeat it (RFC 6749 §4.1.3),
  // and a client that named it here always can.
  const redirectUri = params.get("redirect_uri");
  if (!redirectUri || repeated.includes("redirect_uri")) {
    return {
      ok: false,
      kind: "page",
      error: "The application did not say exactly where to send you back (one redirect_uri is required).",
    };
  }
  if (!client.redirectUris.includes(redirectUri)) {
    return {
      ok: false,
      kind: "page",
      error: "The application asked to send you to an address it has not registered. Nothing was shared.",
    };
  }
  const state = params.get("state");
  if (repeated.length > 0) {
    return {
      ok: false,
      kind: "redirect",
      location: errorRedirect(redirectUri, state, "invalid_request", `Repeated parameter: ${repeated.join(", ")}.`),
    };
  }
  if (params.get("response_type") !== "code") {
    return {
      ok: false,
      kind: "redirect",
      location: errorRedirect(redirectUri, state, "unsupported_response_type", "Only response_type=code is supported."),
    };
  }
  const challenge = params.get("code_challenge");
  const method = params.get("code_challenge_method");
  if (client.clientType === "PUBLIC" && !challenge) {
    return {
      ok: false,
      kind: "redirect",
      location: errorRedirect(
        redirectUri,
        state,
        "invalid_request",
        "Public clients must use PKCE (code_challenge with S256).",
      ),
    };
  }
  if (challenge && method !== "S256") {
    return {
      ok: false,
      kind: "redirect",
      location: errorRedirect(redirectUri, state, "invalid_request", "code_challenge_method must be S256."),
    };
  }
  const scopes = parseScopeParam(params.get("scope"));
  const effective = scopes.length > 0 ? scopes : ["openid"];
  const refused = effective.filter((scope) => !isSupportedScope(scope) || !client.allowedScopes.includes(scope));
  if (refused.length > 0) {
    return {
      ok: false,
      kind: "redirect",
      location: errorRedirect(
        redirectUri,
        state,
        "invalid_scope",
        `Not allowed for this application: ${refused.join(" ")}.`,
      ),
    };
  }
  return {
    ok: true,
    request: {
      client: { dbId: client.id, clientId: client.clientId, name: client.name },
      scopes: effective,
      redirectUri,
      state,
      codeChallenge: challenge,
    },
  };
}

export async function hasConsent(
  db: Database,
  { clientDbId, userId, scopes }: { clientDbId: string; userId: string; scopes: string[] },
) {
  const consent = await db.oAuthConsent.findUnique({
    where: { clientId_userId: { clientId: clientDbId, userId } },
    select: { scopes: true },
  });
  return Boolean(consent && scopes.every((scope) => consent.scopes.includes(scope)));
}

/**
 * The user's answer. Approving remembers the consent, creates or re-activates the
 * integration grant when `integration` is among the scopes, and issues a code; denying
 * sends the app `access_denied`.
 */
export async function answerAuthorizationRequest(
  { userId, approved, check }: { userId: string; approved: boolean; check: AuthorizationRequest },
  db: Database = prisma,
): Promise<string> {
  if (approved) {
    const { client, scopes } = check;
    const granted = await db.$transaction(async (tx) => {
      const existing = await tx.oAuthConsent.findUnique({
        where: { clientId_userId: { clientId: client.dbId, userId } },
        select: { scopes: true },
      });
      const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
      // A remembered consent approved again is no news; a first approval or a wider one is.
      const widened = merged.length > (existing?.scopes.length ?? 0);
      if (widened) await recordGrantEvent(tx, { type: "oauth.grant.created", userId, client, scopes: merged });
      await tx.oAuthConsent.upsert({
        where: { clientId_userId: { clientId: client.dbId, userId } },
        create: { clientId: client.dbId, userId, scopes: merged },
        update: { scopes: merged },
      });
      if (scopes.includes("integration")) {
        await tx.oAuthIntegrationGrant.upsert({
          where: { clientId_userId: { clientId: client.dbId, userId } },
          create: { clientId: client.dbId, userId, scopes },
          update: { scopes, isActive: true, revokedAt: null, grantedAt: new Date() },
        });
      }
      return widened;
    });
    if (granted) await dispatchEventsOf(grantEventSource(client.dbId, userId), { userId });
  }
  // The library sees exactly what was checked and shown to the user, never the raw query string.
  const query: Record<string, string> = {
    client_id: check.client.clientId,
    redirect_uri: check.redirectUri,
    response_type: "code",
    scope: check.scopes.join(" "),
    ...(check.state ? { state: check.state } : {}),
    ...(check.codeChallenge ? { code_challenge: check.codeChallenge, code_challenge_method: "S256" } : {}),
  };
  if (!approved) query.allowed = "false";
  const oauthRequest = new OAuthRequest({ method: "GET", query, headers: {}, body: {} });
  const oauthResponse = new OAuthResponse({ headers: {} });
  try {
    await server(db, false).authorize(oauthRequest, oauthResponse, {
      authenticateHandler: { handle: () => ({ id: userId }) },
    });
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
  }
  const location = oauthResponse.get("Location") as string | undefined;
  if (!location) throw new Error("The authorization server produced no redirect");
  return location;
}

export type OAuthHttpResult = { status: number; headers: Record<string, string>; body: unknown };

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

function bodyOf(form: FormData | URLSearchParams): Record<string, string> {
  const body: Record<string, string> = {};
  for (const [key, value] of form.entries()) if (typeof value === "string") body[key] = value;
  return body;
}

/**
 * The library revokes the presented refresh token before it checks a requested `scope`, so a
 * request for more than was granted would cost the client its token; refuse it first.
 */
async function asksMoreThanRefreshTokenHolds(db: Database, body: Record<string, string>): Promise<boolean> {
  if (body.grant_type !== "refresh_token" || !body.scope || !body.refresh_token) return false;
  const token = await db.oAuthToken.findUnique({
    where: { refreshTokenHash: hashToken(body.refresh_token) },
    select: { scopes: true },
  });
  // An unknown token is the library's to refuse (invalid_grant).
  return Boolean(token && !parseScopeParam(body.scope).every((scope) => token.scopes.includes(scope)));
}

/** POST /oauth/token: code exchange and refresh, answered as RFC 6749 JSON. */
export async function exchangeToken(request: Request, db: Database = prisma): Promise<OAuthHttpResult> {
  const body = bodyOf(await request.formData().catch(() => new FormData()));
  const malformed = malformedRequest(request, body);
  if (malformed) return malformed;
  if (await asksMoreThanRefreshTokenHolds(db, body)) {
    return {
      status: 400,
      headers: NO_STORE,
      body: { error: "invalid_scope", error_description: "A refresh cannot ask for scopes the grant does not hold." },
    };
  }
  const oauthRequest = new OAuthRequest({
    method: request.method,
    query: {},
    headers: Object.fromEntries(request.headers),
    body,
  });
  const oauthResponse = new OAuthResponse({ headers: {} });
  try {
    await server(db, true).token(oauthRequest, oauthResponse, { accessTokenLifetime: 3600 });
    return { status: 200, headers: NO_STORE, body: oauthResponse.body };
  } catch (error) {
    if (error instanceof OAuthError) {
      const status = error.name === "invalid_client" ? 401 : error.code === 503 ? 503 : error.code >= 500 ? 500 : 400;
      if (status >= 500) logger.error({ err: error }, "Token endpoint failed");
      return {
        status,
        headers: { ...NO_STORE, ...(status === 401 ? { "WWW-Authenticate": 'Basic realm="echo"' } : {}) },
        body: { error: error.name, error_description: error.message },
      };
    }
    throw error;
  }
}

/** A malformed %-escape in Basic credentials is a client that cannot authenticate, not a server error. */
function decodeOrUndefined(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

const NUL = "\u0000";

/** PostgreSQL text cannot hold NUL: a body or Basic credential carrying one is refused before any lookup. */
function malformedRequest(request: Request, body: Record<string, string>): OAuthHttpResult | null {
  const header = request.headers.get("Authorization");
  const basic = header?.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString("utf8") : "";
  const fields = Object.entries(body).flat();
  if (!basic.includes(NUL) && !fields.some((value) => value.includes(NUL))) return null;
  return {
    status: 400,
    headers: NO_STORE,
    body: { error: "invalid_request", error_description: "The request contains a NUL character." },
  };
}

/** Reads client credentials from HTTP Basic or the form, per RFC 6749 §2.3.1. */
function clientCredentials(
  request: Request,
  form: Record<string, string>,
): { clientId?: string; clientSecret?: string } {
  const header = request.headers.get("Authorization");
  if (header?.startsWith("Basic ")) {
    const [id, secret] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
    return { clientId: id && decodeOrUndefined(id), clientSecret: secret && decodeOrUndefined(secret) };
  }
  return { clientId: form.client_id, clientSecret: form.client_secret };
}

/** POST /oauth/revoke (RFC 7009): revokes an access or refresh token the client owns; always 200 otherwise. */
export async function revokeTokenRequest(request: Request, db: Database = prisma): Promise<OAuthHttpResult> {
  const form = bodyOf(await request.formData().catch(() => new FormData()));
  const malformed = malformedRequest(request, form);
  if (malformed) return malformed;
  const { clientId, clientSecret } = clientCredentials(request, form);
  const client = clientId
    ? await db.oAuthClient.findFirst({
        where: { clientId, deletedAt: null },
        select: { id: true, clientType: true, clientSecretHash: true },
      })
    : null;
  const authenticated =
    client &&
    (client.clientType === "PUBLIC" ||
      (clientSecret && client.clientSecretHash && matchesHash(clientSecret, client.clientSecretHash)));
  if (!authenticated) {
    return {
      status: 401,
      headers: { ...NO_STORE, "WWW-Authenticate": 'Basic realm="echo"' },
      body: { error: "invalid_client", error_description: "Client authentication failed." },
    };
  }
  if (!form.token)
    return {
      status: 400,
      headers: NO_STORE,
      body: { error: "invalid_request", error_description: "Missing parameter: token." },
    };
  const hash = hashToken(form.token);
  await db.oAuthToken.updateMany({
    where: { clientId: client.id, revokedAt: null, OR: [{ accessTokenHash: hash }, { refreshTokenHash: hash }] },
    data: { revokedAt: new Date() },
  });
  return { status: 200, headers: NO_STORE, body: {} };
}

/** Bearer access token → the user and scopes it stands for, or null. */
export async function authenticateBearer(request: Request, db: Database = prisma) {
  const header = request.headers.get("Authorization");
  if (!header?.startsWith("Bearer ")) return null;
  const token = await db.oAuthToken.findUnique({
    where: { accessTokenHash: hashToken(header.slice(7).trim()) },
    select: {
      userId: true,
      scopes: true,
      revokedAt: true,
      accessTokenExpiresAt: true,
      client: { select: { id: true, deletedAt: true } },
    },
  });
  if (!token || token.revokedAt || token.client.deletedAt || token.accessTokenExpiresAt < new Date()) return null;
  return { userId: token.userId, scopes: token.scopes, clientDbId: token.client.id };
}

/** Revoking access in Connected apps: no grant, no consent, no live token, no code left to exchange. */
export async function revokeAppAccess(
  db: Database,
  { userId, clientDbId }: { userId: string; clientDbId: string },
): Promise<boolean> {
  const now = new Date();
  const revoked = await db.$transaction(async (tx) => {
    const consent = await tx.oAuthConsent.findUnique({
      where: { clientId_userId: { clientId: clientDbId, userId } },
      select: { scopes: true, client: { select: { clientId: true, name: true } } },
    });
    const grants = await tx.oAuthIntegrationGrant.updateMany({
      where: { userId, clientId: clientDbId, isActive: true },
      data: { isActive: false, revokedAt: now },
    });
    await tx.oAuthConsent.deleteMany({ where: { userId, clientId: clientDbId } });
    await tx.oAuthToken.updateMany({
      where: { userId, clientId: clientDbId, revokedAt: null },
      data: { revokedAt: now },
    });
    // A code issued just before the revoke would otherwise still buy tokens for its last seconds.
    await tx.oAuthAuthorizationCode.updateMany({
      where: { userId, clientId: clientDbId, consumedAt: null, expiresAt: { gt: now } },
      data: { expiresAt: now },
    });
    if (consent) {
      await recordGrantEvent(tx, {
        type: "oauth.grant.revoked",
        userId,
        client: { dbId: clientDbId, ...consent.client },
        scopes: consent.scopes,
      });
    }
    return grants.count > 0 || consent !== null;
  });
  if (revoked) await dispatchEventsOf(grantEventSource(clientDbId, userId), { userId });
  return revoked;
}
