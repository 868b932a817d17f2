import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { authenticateBearer } from "~/services/oauth/authorization-server.server";

/** OpenID Connect userinfo: `sub` with `openid`; name with `profile`, email with `email`. */
async function userinfo(request: Request) {
  const token = await authenticateBearer(request);
  if (!token) {
    return Response.json(
      { error: "invalid_token", error_description: "The access token is missing, expired or revoked." },
      { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } },
    );
  }
  // OpenID Connect Core §5.3: userinfo serves tokens from an `openid` request only.
  if (!token.scopes.includes("openid")) {
    return Response.json(
      { error: "insufficient_scope", error_description: "This access token was not granted the openid scope." },
      { status: 403, headers: { "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="openid"' } },
    );
  }
  const user = await prisma.user.findUnique({
    where: { id: token.userId },
    select: { id: true, name: true, email: true },
  });
  if (!user) return Response.json({ error: "invalid_token" }, { status: 401 });
  return Response.json(
    {
      sub: user.id,
      ...(token.scopes.includes("profile") ? { name: user.name } : {}),
      ...(token.scopes.includes("email") ? { email: user.email } : {}),
    },
    { headers: { "Cache-Control": "no-store" } },
  );
}

export const loader = ({ request }: LoaderFunctionArgs) => userinfo(request);
export const action = ({ request }: ActionFunctionArgs) => userinfo(request);
