import { prisma, type Database } from "~/db.server";
import type { EndpointActor } from "~/models/webhook-endpoint.server";
import { authenticateBearer } from "~/services/oauth/authorization-server.server";
import { API_KEY_PREFIX, findUserByApiKey } from "./api-keys.server";
import { problem } from "./problem.server";

function bearerOf(request: Request): string | null {
  const header = request.headers.get("Authorization");
  return header?.startsWith("Bearer ") ? header.slice(7).trim() : null;
}

function unauthorized(detail: string): Response {
  const response = problem(401, "Unauthorized", detail);
  response.headers.set("WWW-Authenticate", 'Bearer realm="echo"');
  return response;
}

/** The JSON API's caller: a personal API key (`Authorization: Bearer echo_sk_…`). Throws a 401 problem otherwise. */
export async function requireApiUser(request: Request, db: Database = prisma): Promise<{ userId: string }> {
  const key = bearerOf(request);
  const userId = key ? await findUserByApiKey(db, key) : null;
  if (!userId) {
    throw unauthorized(
      "Send a personal API key as `Authorization: Bearer echo_sk_…`; create one in Settings → API keys.",
    );
  }
  return { userId };
}

/** OAuth apps manage their users' endpoints with an access token that carries this scope. */
export const ENDPOINTS_OAUTH_SCOPE = "integration";

/**
 * The webhook API's caller: a personal API key (the user, all their endpoints), or an OAuth
 * access token with the `integration` scope (an app, acting for one user, on the endpoints
 * it registered for them).
 */
export async function requireEndpointActor(request: Request, db: Database = prisma): Promise<EndpointActor> {
  const token = bearerOf(request);
  if (token?.startsWith(API_KEY_PREFIX)) {
    const userId = await findUserByApiKey(db, token);
    if (userId) return { userId };
  } else if (token) {
    const bearer = await authenticateBearer(request, db);
    if (bearer) {
      if (!bearer.scopes.includes(ENDPOINTS_OAUTH_SCOPE)) {
        const response = problem(
          403,
          "Insufficient scope",
          `This access token lacks the \`${ENDPOINTS_OAUTH_SCOPE}\` scope that the webhook API requires.`,
        );
        response.headers.set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="${ENDPOINTS_OAUTH_SCOPE}"`);
        throw response;
      }
      return { userId: bearer.userId, oauthClientId: bearer.clientDbId };
    }
  }
  throw unauthorized(
    "Send a personal API key (`Authorization: Bearer echo_sk_…`, from Settings → API keys) or an OAuth access token with the `integration` scope.",
  );
}
