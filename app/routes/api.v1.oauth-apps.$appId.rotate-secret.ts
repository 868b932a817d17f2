import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { prisma } from "~/db.server";
import { requireApiUser } from "~/services/api/authenticate.server";
import { problem } from "~/services/api/problem.server";
import { AppNotFoundError, rotateClientSecret } from "~/services/oauth/oauth-apps.server";

/** POST /api/v1/oauth-apps/:appId/rotate-secret: a new client secret, returned once; the old one stops working. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return problem(405, "Method not allowed", "Use POST.");
  const { userId } = await requireApiUser(request);
  const { appId } = z.object({ appId: z.string().min(1).max(100) }).parse(params);
  try {
    return Response.json({ clientSecret: await rotateClientSecret(prisma, userId, appId) });
  } catch (error) {
    if (error instanceof AppNotFoundError)
      return problem(404, "Not found", "No OAuth app with this id belongs to you.");
    throw error;
  }
}
