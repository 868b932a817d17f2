import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { z } from "zod";
import { prisma } from "~/db.server";
import { env } from "~/env.server";
import { findDefinitionBySlug } from "~/models/integration-account.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { beginOAuth2Connect, callbackUrl } from "~/services/integrations/oauth2-connect.server";

const ParamsSchema = z.object({ slug: z.string().min(1).max(64) });

/** Starts connecting an OAuth 2.0 integration: remembers the state, sends the user to the provider. */
export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  await requireValidCsrf(request, await request.formData());
  const parsedParams = ParamsSchema.safeParse(params);
  if (!parsedParams.success) throw new Response("No such OAuth integration.", { status: 404 });
  const { slug } = parsedParams.data;
  const definition = await findDefinitionBySlug(prisma, slug);
  if (!definition || definition.authType !== "OAUTH2")
    throw new Response("No such OAuth integration.", { status: 404 });
  const scopes = ((definition.config ?? {}) as { scopes?: string[] }).scopes ?? [];
  const started = await beginOAuth2Connect({
    userId: user.id,
    slug,
    scopes,
    redirectUri: callbackUrl(env.APP_URL, slug),
  });
  if (!started.ok) throw new Response(started.error, { status: 409 });
  return redirect(started.authorizeUrl, { headers: { "Set-Cookie": started.setCookie } });
}

export const loader = () => redirect("/integrations");
