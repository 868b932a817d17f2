import type { ActionFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { methodNotAllowed, problem } from "~/services/api/problem.server";
import { AppNotFoundError, rotateClientSecret } from "~/services/oauth/oauth-apps.server";
import { requireApiOwnedOAuthApp } from "~/services/oauth/require-owned-app.server";

/** POST /api/v1/oauth-apps/:appId/rotate-secret: a new client secret, returned once; the old one stops working. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const { userId, app } = await requireApiOwnedOAuthApp(request, params);
  try {
    return Response.json(
      { clientSecret: await rotateClientSecret(prisma, userId, app.id) },
      { headers: { "Cache-Control": "no-store" } },
    );
  } catch (error) {
    // Deleted between the lookup and the rotation.
    if (error instanceof AppNotFoundError)
      return problem(404, "Not found", "No OAuth app with this id belongs to you.");
    throw error;
  }
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
