import OAuth2Server, {
  InvalidRequestError,
  Request as OAuthRequest,
  Response as OAuthResponse,
  OAuthError,
} from "@node-oauth/oauth2-server";
import { dispatchEventsOf } from "~/services/webhooks/publish.server";
import { grantEventSource, recordGrantEvent } from "./grant-events.server";
import { prisma, type Database } from "~/db.server";
import { readClientCredentials } from "~/lib/oauth-client-authentication";
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

/** The grants Echo offers (as its metadata says); the library also knows password and client_credentials. */
const GRANT_TYPES = ["authorization_code", "refresh_token"];
/** The parameters each endpoint reads; RFC 6749 §3.2: none may appear more than once. */
const TOKEN_PARAMS = [
  "grant_type",
  "code",
  "redirect_uri",
  "code_verifier",
  "refresh_token",
  "scope",
  "client_id",
  "client_secret",
];
const REVOCATION_PARAMS = ["token", "token_type_hint", "client_id", "client_secret"];

/**
 * An RFC 6749 §5.2 error answer. `invalid_client` is a 401 with a Basic challenge (required when
 * the client tried Basic, and RFC 7235 wants every 401 to name a scheme); the rest are 400.
 */
function oauthError(error: string, description: string): OAuthHttpResult {
  const status = error === "invalid_client" ? 401 : 400;
  return {
    status,
    headers: { ...NO_STORE, ...(status === 401 ? { "WWW-Authenticate": 'Basic realm="echo"' } : {}) },
    body: { error, error_description: description },
  };
}

const NUL = "\u0000";

/**
 * The form as one value per parameter. RFC 6749 §3.1: a parameter sent without a value counts as
 * omitted; §3.2: one Echo reads may not be repeated. PostgreSQL text cannot hold NUL, so a field
 * carrying one is refused before any lookup.
 */
async function readOAuthForm(
  request: Request,
  params: readonly string[],
): Promise<{ ok: true; body: Record<string, string> } | { ok: false; refusal: OAuthHttpResult }> {
  const form = await request.formData().catch(() => new FormData());
  const fields = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of form.entries()) {
    if (typeof value !== "string") continue;
    if (name.includes(NUL) || value.includes(NUL))
      return { ok: false, refusal: oauthError("invalid_request", "The request contains a NUL character.") };
    if (value === "") continue;
    if (fields.has(name) && params.includes(name)) repeated.add(name);
    fields.set(name, value);
  }
  if (repeated.size > 0)
    return { ok: false, refusal: oauthError("invalid_request", `Repeated parameter: ${[...repeated].join(", ")}.`) };
  return { ok: true, body: Object.fromEntries(fields) };
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

/**
 * Where the library's error code differs from RFC 6749 §5.2: a `redirect_uri` that is not the one
 * the code was issued for is `invalid_grant` ("does not match the redirection URI used in the
 * authorization request"), not `invalid_request`.
 */
function rfc6749Error(error: OAuthError): { error: string; description: string } {
  if (error instanceof InvalidRequestError && error.message === "Invalid request: `redirect_uri` is invalid")
    return {
      error: "invalid_grant",
      description: "Invalid grant: `redirect_uri` is not the one the code was issued for",
    };
  return { error: error.name, description: error.message };
}

/** POST /oauth/token: code exchange and refresh, answered as RFC 6749 JSON. */
export async function exchangeToken(request: Request, db: Database = prisma): Promise<OAuthHttpResult> {
  const form = await readOAuthForm(request, TOKEN_PARAMS);
  if (!form.ok) return form.refusal;
  const { body } = form;
  const read = readClientCredentials(request.headers.get("Authorization"), body);
  if (!read.ok) return oauthError(read.error, read.description);
  if (body.grant_type && !GRANT_TYPES.includes(body.grant_type)) {
    return oauthError("unsupported_grant_type", `Echo issues tokens for grant_type ${GRANT_TYPES.join(" and ")} only.`);
  }
  if (await asksMoreThanRefreshTokenHolds(db, body)) {
    return oauthError("invalid_scope", "A refresh cannot ask for scopes the grant does not hold.");
  }
  // The library reads Basic credentials without form-decoding them (RFC 6749 §2.3.1), so it is
  // handed the decoded ones in the body instead, and no Authorization header.
  const { clientId, clientSecret } = read.credentials;
  const headers = Object.fromEntries(request.headers);
  delete headers.authorization;
  const oauthRequest = new OAuthRequest({
    method: request.method,
    query: {},
    headers,
    body: {
      ...body,
      ...(clientId !== null ? { client_id: clientId } : {}),
      ...(clientSecret !== null ? { client_secret: clientSecret } : {}),
    },
  });
  const oauthResponse = new OAuthResponse({ headers: {} });
  try {
    await server(db, true).token(oauthRequest, oauthResponse, { accessTokenLifetime: 3600 });
    return { status: 200, headers: NO_STORE, body: oauthResponse.body };
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    if (error.code >= 500) {
      logger.error({ err: error }, "Token endpoint failed");
      return {
        status: error.code === 503 ? 503 : 500,
        headers: NO_STORE,
        body: { error: error.name, error_description: error.message },
      };
    }
    const answer = rfc6749Error(error);
    return oauthError(answer.error, answer.description);
  }
}

/** POST /oauth/revoke (RFC 7009): revokes an access or refresh token the client owns; always 200 otherwise. */
export async function revokeTokenRequest(request: Request, db: Database = prisma): Promise<OAuthHttpResult> {
  const form = await readOAuthForm(request, REVOCATION_PARAMS);
  if (!form.ok) return form.refusal;
  const read = readClientCredentials(request.headers.get("Authorization"), form.body);
  if (!read.ok) return oauthError(read.error, read.description);
  const { clientId, clientSecret } = read.credentials;
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
  if (!authenticated) return oauthError("invalid_client", "Client authentication failed.");
  if (!form.body.token) return oauthError("invalid_request", "Missing parameter: token.");
  const hash = hashToken(form.body.token);
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
