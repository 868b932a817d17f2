import { z } from "zod";
import { prisma } from "~/db.server";
import { getOAuthApp } from "~/models/oauth-client.server";
import { requireUser } from "~/services/auth/session.server";

const ParamsSchema = z.object({ appId: z.string().min(1).max(100) });

/** The signed-in developer and their app from the URL; anyone else's app is a 404. */
export async function requireOwnedOAuthApp(request: Request, params: unknown) {
  const user = await requireUser(request);
  const { appId } = ParamsSchema.parse(params);
  const app = await getOAuthApp(prisma, { id: appId, ownerId: user.id });
  if (!app) throw new Response("No such OAuth app.", { status: 404 });
  return { user, app };
}
