import type { Database } from "~/db.server";
import { createApiKey } from "~/services/api/api-keys.server";
import { hashToken, randomToken } from "~/services/oauth/tokens.server";
import { createOAuthApp, createUser } from "./fixtures/webhooks";

export type ApiCall = (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>;

/** Calls `<baseUrl>/api/v1<path>` with a bearer token (none when null); `json` sends a JSON body. */
export function apiCaller(baseUrl: string, token: string | null): ApiCall {
  return (path, init = {}) =>
    fetch(`${baseUrl}/api/v1${path}`, {
      ...init,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(init.json !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(init.headers as Record<string, string>),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
}

/** A user with a personal API key, and a caller that uses it. */
export async function apiUser(db: Database, baseUrl: string) {
  const user = await createUser(db);
  const created = await createApiKey(db, user.id, { name: "test" });
  if (!created.ok) throw new Error(created.error);
  return { userId: user.id, key: created.key, call: apiCaller(baseUrl, created.key) };
}

/** An OAuth app holding an access token for `userId` with these scopes (as /oauth/token would issue it). */
export async function oauthAppToken(
  db: Database,
  baseUrl: string,
  { userId, ownerId = userId, scopes }: { userId: string; ownerId?: string; scopes: string[] },
) {
  const app = await createOAuthApp(db, { ownerId, grantUserId: userId, webhookUrl: null, grantScopes: scopes });
  const token = randomToken("echo_at_");
  await db.oAuthToken.create({
    data: {
      accessTokenHash: hashToken(token),
      accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
      clientId: app.id,
      userId,
      scopes,
    },
  });
  return { appId: app.id, token, call: apiCaller(baseUrl, token) };
}
