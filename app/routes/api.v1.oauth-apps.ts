import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { getOAuthApp, listOAuthApps } from "~/models/oauth-client.server";
import { presentApiOAuthApp } from "~/presenters/ApiOAuthAppPresenter.server";
import { requireApiUser } from "~/services/api/authenticate.server";
import { methodNotAllowed, readJson, validationProblem } from "~/services/api/problem.server";
import { OAuthAppCreateBodySchema } from "~/services/api/oauth-app-requests.server";
import { createOAuthApp } from "~/services/oauth/oauth-apps.server";

/** GET /api/v1/oauth-apps: the caller's apps. */
export async function loader({ request }: LoaderFunctionArgs) {
  const { userId } = await requireApiUser(request);
  const apps = await listOAuthApps(prisma, userId);
  return Response.json({ data: apps.map(presentApiOAuthApp) });
}

/** POST /api/v1/oauth-apps: creates an app; the client secret is in this answer only. */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
  const { userId } = await requireApiUser(request);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = OAuthAppCreateBodySchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  const created = await createOAuthApp(prisma, userId, parsed.data);
  const app = await getOAuthApp(prisma, { id: created.id, ownerId: userId });
  return Response.json(
    { ...presentApiOAuthApp(app!), clientSecret: created.clientSecret },
    { status: 201, headers: { "Cache-Control": "no-store" } },
  );
}
