import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { env } from "~/env.server";
import { requireUser } from "~/services/auth/session.server";
import { callbackUrl, completeOAuth2Connect } from "~/services/integrations/oauth2-connect.server";

export const meta: MetaFunction = () => [{ title: "Connecting · Echo" }];

const ParamsSchema = z.object({ slug: z.string().min(1).max(64) });

/** The provider sends the user back here with a code (or an error). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const parsedParams = ParamsSchema.safeParse(params);
  if (!parsedParams.success) throw new Response("No such integration.", { status: 404 });
  const { slug } = parsedParams.data;
  const { result, clearCookie } = await completeOAuth2Connect({
    request,
    userId: user.id,
    slug,
    redirectUri: callbackUrl(env.APP_URL, slug),
  });
  if (result.ok) {
    throw redirect(`/integrations?${new URLSearchParams({ connected: result.displayName })}`, {
      headers: { "Set-Cookie": clearCookie },
    });
  }
  return data({ user, error: result.error }, { status: result.status, headers: { "Set-Cookie": clearCookie } });
}

export default function IntegrationCallback() {
  const { user, error } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">The integration was not connected</h1>
      <p role="alert" className="mt-4 rounded-md bg-red-50 p-3 text-red-700">
        {error}
      </p>
      <Link to="/integrations" className="mt-6 inline-block text-indigo-700 underline">
        Back to Integrations
      </Link>
    </AppShell>
  );
}
