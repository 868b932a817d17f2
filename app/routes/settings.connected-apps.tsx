import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { IntentButton } from "~/components/intent-button";
import { prisma } from "~/db.server";
import { formatDateTime } from "~/lib/format";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { revokeAppAccess } from "~/services/oauth/authorization-server.server";

export const meta: MetaFunction = () => [{ title: "Connected apps · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const consents = await prisma.oAuthConsent.findMany({
    where: { userId: user.id, client: { deletedAt: null } },
    orderBy: { updatedAt: "desc" },
    select: { clientId: true, scopes: true, updatedAt: true, client: { select: { name: true } } },
  });
  const grants = await prisma.oAuthIntegrationGrant.findMany({
    where: { userId: user.id, isActive: true },
    select: { clientId: true },
  });
  const active = new Set(grants.map((grant) => grant.clientId));
  return {
    user,
    apps: consents.map((consent) => ({
      clientDbId: consent.clientId,
      name: consent.client.name,
      scopes: consent.scopes,
      since: consent.updatedAt,
      integrationGrant: active.has(consent.clientId),
    })),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const parsed = z.object({ clientDbId: z.string().min(1).max(100) }).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return data({ error: "Choose an app to revoke." }, { status: 400 });
  const revoked = await revokeAppAccess(prisma, { userId: user.id, clientDbId: parsed.data.clientDbId });
  if (!revoked) return data({ error: "That app has no access to revoke." }, { status: 404 });
  return { error: null };
}

export default function ConnectedApps() {
  const { user, apps } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">Connected apps</h1>
      <p className="mt-1 text-slate-600">Apps you allowed to access your Echo account.</p>
      {apps.length === 0 ? (
        <p className="mt-8 text-slate-600">No app has access to your account.</p>
      ) : (
        <ul className="mt-6 divide-y divide-slate-200 rounded-lg bg-white ring-1 ring-slate-200">
          {apps.map((app) => (
            <li
              key={app.clientDbId}
              className="flex items-center justify-between gap-4 p-4"
              data-testid="connected-app"
            >
              <div>
                <p className="font-medium">{app.name}</p>
                <p className="text-xs text-slate-500">
                  {app.scopes.join(" · ")} · since {formatDateTime(app.since)}
                  {app.integrationGrant ? " · notified of your integrations" : ""}
                </p>
              </div>
              <IntentButton intent="revoke" fields={{ clientDbId: app.clientDbId }} variant="danger">
                Revoke access
              </IntentButton>
            </li>
          ))}
        </ul>
      )}
    </AppShell>
  );
}
