import { z } from "zod";
import { prisma } from "~/db.server";
import { getOAuthApp } from "~/models/oauth-client.server";
import { requireApiUser } from "~/services/api/authenticate.server";
import { problem } from "~/services/api/problem.server";
import { requireUser } from "~/services/auth/session.server";

const ParamsSchema = z.object({ appId: z.string().min(1).max(100) });

/** The app id from the URL, or null for one that cannot be an app's (it is then simply not found). */
function appIdFrom(params: unknown): string | null {
  const parsed = ParamsSchema.safeParse(params);
  return parsed.success ? parsed.data.appId : null;
}

/** The signed-in developer and their app from the URL; anyone else's app is a 404. */
export async function requireOwnedOAuthApp(request: Request, params: unknown) {
  const user = await requireUser(request);
  const appId = appIdFrom(params);
  const app = appId ? await getOAuthApp(prisma, { id: appId, ownerId: user.id }) : null;
  if (!app) throw new Response("No such OAuth app.", { status: 404 });
  return { user, app };
}

/** The JSON API's caller (personal API key) and their app from the URL; anyone else's app is a 404 problem. */
export async function requireApiOwnedOAuthApp(request: Request, params: unknown) {
  const { userId } = await requireApiUser(request);
  const appId = appIdFrom(params);
  const app = appId ? await getOAuthApp(prisma, { id: appId, ownerId: userId }) : null;
  if (!app) throw problem(404, "Not found", "No OAuth app with this id belongs to you.");
  return { userId, app };
}
