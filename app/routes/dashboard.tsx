import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { prisma } from "~/db.server";
import { AUTH_TYPE_LABEL } from "~/lib/integration-labels";
import { presentDashboard } from "~/presenters/DashboardPresenter.server";
import { requireUser } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "Dashboard · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { user, view: await presentDashboard(prisma, user.id) };
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4">
      <p className="text-sm text-slate-500">{label}</p>
      <p className="mt-1 text-2xl font-semibold">{value}</p>
    </div>
  );
}

export default function Dashboard() {
  const { user, view } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">Welcome, {user.name}</h1>
      <section className="mt-6 grid grid-cols-1 gap-4 sm:grid-cols-4" aria-label="Summary">
        <Stat label="Connected integrations" value={view.connectedAccounts} />
        <Stat label="Your OAuth apps" value={view.oauthApps.length} />
        <Stat label="Apps you granted access" value={view.activeGrants} />
        <Stat label="Webhook deliveries" value={view.recentDeliveries} />
      </section>

      <section className="mt-10" aria-labelledby="integrations-heading">
        <h2 id="integrations-heading" className="text-lg font-semibold">
          Integrations
        </h2>
        <ul className="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-3">
          {view.integrations.map((integration) => (
            <li
              key={integration.slug}
              className="flex gap-3 rounded-lg border border-slate-200 bg-white p-4"
              data-testid={`integration-${integration.slug}`}
            >
              <img src={integration.icon} alt="" className="h-10 w-10" />
              <div>
                <p className="font-medium">{integration.name}</p>
                <p className="text-xs uppercase tracking-wide text-slate-500">
                  {AUTH_TYPE_LABEL[integration.authType]}
                </p>
                <p className="mt-1 text-sm text-slate-600">{integration.description}</p>
              </div>
            </li>
          ))}
        </ul>
      </section>

      <section className="mt-10" aria-labelledby="apps-heading">
        <h2 id="apps-heading" className="text-lg font-semibold">
          Your OAuth apps
        </h2>
        {view.oauthApps.length === 0 ? (
          <p className="mt-4 text-slate-600">You have not registered an OAuth app yet.</p>
        ) : (
          <ul className="mt-4 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
            {view.oauthApps.map((app) => (
              <li key={app.id} className="flex items-center justify-between p-4" data-testid="oauth-app">
                <div>
                  <p className="font-medium">{app.name}</p>
                  <p className="font-mono text-xs text-slate-500">{app.clientId}</p>
                </div>
                <p className="text-sm text-slate-600">
                  {app.allowedScopes.join(" · ")} · {app.webhookUrl ? "webhook set" : "no webhook URL"}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
    </AppShell>
  );
}
