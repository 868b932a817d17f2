import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { getOAuthApp } from "~/models/oauth-client.server";
import { presentApiOAuthApp } from "~/presenters/ApiOAuthAppPresenter.server";
import { OAuthAppPatchBodySchema } from "~/services/api/oauth-app-requests.server";
import { methodNotAllowed, readJson, validationProblem } from "~/services/api/problem.server";
import { OAuthAppUpdateSchema, deleteOAuthApp, updateOAuthApp } from "~/services/oauth/oauth-apps.server";
import { requireApiOwnedOAuthApp } from "~/services/oauth/require-owned-app.server";

/** GET /api/v1/oauth-apps/:appId */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { app } = await requireApiOwnedOAuthApp(request, params);
  return Response.json(presentApiOAuthApp(app));
}

/** PATCH (name, redirectUris, allowedScopes) or DELETE /api/v1/oauth-apps/:appId */
export async function action({ request, params }: ActionFunctionArgs) {
  const { userId, app } = await requireApiOwnedOAuthApp(request, params);
  if (request.method === "DELETE") {
    await deleteOAuthApp(prisma, userId, app.id);
    return new Response(null, { status: 204 });
  }
  if (request.method !== "PATCH") return methodNotAllowed(["GET", "PATCH", "DELETE"]);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = OAuthAppPatchBodySchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  const merged = OAuthAppUpdateSchema.safeParse({
    name: app.name,
    redirectUris: app.redirectUris,
    allowedScopes: app.allowedScopes,
    ...parsed.data,
  });
  if (!merged.success) return validationProblem(merged.error);
  await updateOAuthApp(prisma, userId, app.id, merged.data);
  return Response.json(presentApiOAuthApp((await getOAuthApp(prisma, { id: app.id, ownerId: userId }))!));
}
