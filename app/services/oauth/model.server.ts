import type { Database } from "~/db.server";
import { isSupportedScope } from "~/lib/oauth-scopes";
import { hashToken, matchesHash, randomToken } from "./tokens.server";

export const ACCESS_TOKEN_LIFETIME_SECONDS = 60 * 60;
export const REFRESH_TOKEN_LIFETIME_SECONDS = 30 * 24 * 60 * 60;
export const AUTHORIZATION_CODE_LIFETIME_SECONDS = 60;

export type OAuthClientRecord = {
  id: string;
  dbId: string;
  clientType: "CONFIDENTIAL" | "PUBLIC";
  redirectUris: string[];
  allowedScopes: string[];
  grants: string[];
  accessTokenLifetime: number;
  refreshTokenLifetime: number;
};

type User = { id: string };

/**
 * The storage model @node-oauth/oauth2-server calls. One instance per request, so that the
 * token issued by a code exchange can be linked to that code (for reuse detection).
 * `authenticateClients`: the token and revocation endpoints check confidential clients'
 * secrets; the authorization endpoint only identifies the client.
 */
export function createOAuthModel(db: Database, { authenticateClients }: { authenticateClients: boolean }) {
  // The code a token descends from, through any number of refreshes: reusing that code
  // revokes the whole line (RFC 6749 §4.1.2: "all tokens previously issued based on that code").
  let originCodeId: string | undefined;

  /**
   * `bound`: the lookup is for a code or token already issued to this client, which was
   * authenticated when it asked; only the library's own call checks the secret.
   */
  async function getClient(
    clientId: string,
    clientSecret: string | null | undefined,
    bound = false,
  ): Promise<OAuthClientRecord | false> {
    const client = await db.oAuthClient.findFirst({
      where: { clientId, deletedAt: null },
      select: {
        id: true,
        clientId: true,
        clientType: true,
        clientSecretHash: true,
        redirectUris: true,
        allowedScopes: true,
      },
    });
    if (!client) return false;
    if (authenticateClients && !bound && client.clientType === "CONFIDENTIAL") {
      if (!clientSecret || !client.clientSecretHash || !matchesHash(clientSecret, client.clientSecretHash))
        return false;
    }
    return {
      id: client.clientId,
      dbId: client.id,
      clientType: client.clientType,
      redirectUris: client.redirectUris,
      allowedScopes: client.allowedScopes,
      grants: ["authorization_code", "refresh_token"],
      accessTokenLifetime: ACCESS_TOKEN_LIFETIME_SECONDS,
      refreshTokenLifetime: REFRESH_TOKEN_LIFETIME_SECONDS,
    };
  }

  return {
    getClient: (clientId: string, clientSecret: string | null | undefined) => getClient(clientId, clientSecret),

    generateAuthorizationCode: async () => randomToken("echo_code_"),
    generateAccessToken: async () => randomToken("echo_at_"),
    generateRefreshToken: async () => randomToken("echo_rt_"),

    async validateScope(_user: User, client: OAuthClientRecord, scope: string[] | undefined) {
      const requested = scope && scope.length > 0 ? scope : ["openid"];
      const ok = requested.every((s) => isSupportedScope(s) && client.allowedScopes.includes(s));
      return ok ? requested : false;
    },

    async saveAuthorizationCode(
      code: {
        authorizationCode: string;
        expiresAt: Date;
        redirectUri: string;
        scope?: string[];
        codeChallenge?: string;
        codeChallengeMethod?: string;
      },
      client: OAuthClientRecord,
      user: User,
    ) {
      await db.oAuthAuthorizationCode.create({
        data: {
          codeHash: hashToken(code.authorizationCode),
          clientId: client.dbId,
          userId: user.id,
          redirectUri: code.redirectUri,
          scopes: code.scope ?? [],
          codeChallenge: code.codeChallenge ?? null,
          codeChallengeMethod: code.codeChallengeMethod ?? null,
          expiresAt: code.expiresAt,
        },
      });
      return { ...code, client, user };
    },

    async getAuthorizationCode(authorizationCode: string) {
      const code = await db.oAuthAuthorizationCode.findUnique({
        where: { codeHash: hashToken(authorizationCode) },
        include: { client: { select: { clientId: true } } },
      });
      if (!code) return false;
      if (code.consumedAt) {
        // A second exchange of a code means it leaked: everything the first one issued dies.
        await db.oAuthToken.updateMany({
          where: { authorizationCodeId: code.id, revokedAt: null },
          data: { revokedAt: new Date() },
        });
        return false;
      }
      originCodeId = code.id;
      const client = await getClient(code.client.clientId, null, true);
      if (!client) return false;
      return {
        authorizationCode,
        expiresAt: code.expiresAt,
        redirectUri: code.redirectUri,
        scope: code.scopes,
        client,
        user: { id: code.userId },
        codeChallenge: code.codeChallenge ?? undefined,
        codeChallengeMethod: code.codeChallengeMethod ?? undefined,
      };
    },

    async revokeAuthorizationCode(code: { authorizationCode: string }) {
      const consumed = await db.oAuthAuthorizationCode.updateMany({
        where: { codeHash: hashToken(code.authorizationCode), consumedAt: null },
        data: { consumedAt: new Date() },
      });
      return consumed.count === 1;
    },

    async saveToken(
      token: {
        accessToken: string;
        accessTokenExpiresAt: Date;
        refreshToken?: string;
        refreshTokenExpiresAt?: Date;
        scope?: string[];
      },
      client: OAuthClientRecord,
      user: User,
    ) {
      await db.oAuthToken.create({
        data: {
          accessTokenHash: hashToken(token.accessToken),
          accessTokenExpiresAt: token.accessTokenExpiresAt,
          refreshTokenHash: token.refreshToken ? hashToken(token.refreshToken) : null,
          refreshTokenExpiresAt: token.refreshTokenExpiresAt ?? null,
          clientId: client.dbId,
          userId: user.id,
          scopes: token.scope ?? [],
          authorizationCodeId: originCodeId ?? null,
        },
      });
      return { ...token, client, user };
    },

    async getAccessToken(accessToken: string) {
      const token = await db.oAuthToken.findUnique({
        where: { accessTokenHash: hashToken(accessToken) },
        include: { client: { select: { clientId: true, deletedAt: true } } },
      });
      if (!token || token.revokedAt || token.client.deletedAt) return false;
      return {
        accessToken,
        accessTokenExpiresAt: token.accessTokenExpiresAt,
        scope: token.scopes,
        client: { id: token.client.clientId },
        user: { id: token.userId },
      };
    },

    async getRefreshToken(refreshToken: string) {
      const token = await db.oAuthToken.findUnique({
        where: { refreshTokenHash: hashToken(refreshToken) },
        include: { client: { select: { clientId: true, deletedAt: true } } },
      });
      if (!token || token.client.deletedAt) return false;
      if (token.revokedAt) {
        // A rotated-out refresh token came back: someone kept a copy. End the whole session.
        await db.oAuthToken.updateMany({
          where: { clientId: token.clientId, userId: token.userId, revokedAt: null },
          data: { revokedAt: new Date() },
        });
        return false;
      }
      const client = await getClient(token.client.clientId, null, true);
      if (!client) return false;
      originCodeId = token.authorizationCodeId ?? undefined;
      return {
        refreshToken,
        refreshTokenExpiresAt: token.refreshTokenExpiresAt ?? undefined,
        scope: token.scopes,
        client,
        user: { id: token.userId },
      };
    },

    async revokeToken(token: { refreshToken: string }) {
      const revoked = await db.oAuthToken.updateMany({
        where: { refreshTokenHash: hashToken(token.refreshToken), revokedAt: null },
        data: { revokedAt: new Date() },
      });
      return revoked.count === 1;
    },

    async verifyScope(token: { scope?: string[] }, scope: string[]) {
      return scope.every((s) => token.scope?.includes(s));
    },
  };
}
