import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { prisma } from "~/db.server";
import { listOAuthApps } from "~/models/oauth-client.server";
import { requireUser } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "OAuth apps · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const apps = await listOAuthApps(prisma, user.id);
  return {
    user,
    apps: apps.map(({ webhookSecret, ...app }) => ({ ...app, hasWebhookSecret: Boolean(webhookSecret) })),
  };
}

export default function OAuthApps() {
  const { user, apps } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user}>
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">OAuth apps</h1>
        <Link
          to="/developers/apps/new"
          className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500"
        >
          New app
        </Link>
      </div>
      <p className="mt-1 text-slate-600">Apps that sign users in with Echo and hear about their integrations.</p>
      {apps.length === 0 ? (
        <p className="mt-8 text-slate-600">No apps yet.</p>
      ) : (
        <ul className="mt-6 divide-y divide-slate-200 rounded-lg bg-white ring-1 ring-slate-200">
          {apps.map((app) => (
            <li key={app.id} className="flex items-center justify-between p-4" data-testid="oauth-app-row">
              <div>
                <Link to={`/developers/apps/${app.id}`} className="font-medium text-indigo-700 underline">
                  {app.name}
                </Link>
                <p className="font-mono text-xs text-slate-500">{app.clientId}</p>
              </div>
              <p className="text-sm text-slate-600">
                {app.webhookDisabledAt ? "webhook disabled" : app.webhookUrl ? "webhook on" : "no webhook"} ·{" "}
                {app.allowedScopes.join(" ")}
              </p>
            </li>
          ))}
        </ul>
      )}
    </AppShell>
  );
}
