import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { StatusChip } from "~/components/status-chip";
import { prisma } from "~/db.server";
import { formatDateTime } from "~/lib/format";
import { DELIVERY_STATUSES } from "~/lib/webhooks/delivery-status";
import { DeliveryListQuerySchema, presentWebhookDeliveryList } from "~/presenters/WebhookDeliveryListPresenter.server";
import { requireUser } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "Webhook deliveries · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const query = DeliveryListQuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  return { user, view: await presentWebhookDeliveryList(prisma, { ownerId: user.id, ...query }) };
}

export default function WebhookDeliveries() {
  const { user, view } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const current = searchParams.get("status");
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">Webhook deliveries</h1>
      <p className="mt-1 text-slate-600">Every event sent to the webhook URLs of your apps, with every attempt.</p>

      {view.disabledApps.map((app) => (
        <div
          key={app.id}
          role="alert"
          className="mt-4 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800"
        >
          Webhooks for <strong>{app.name}</strong> are disabled: {app.webhookDisabledReason}
        </div>
      ))}

      <nav className="mt-6 flex gap-2 text-sm" aria-label="Filter by status">
        <Link
          to="/webhooks"
          className={`rounded-md px-3 py-1 ${!current ? "bg-slate-900 text-white" : "bg-white ring-1 ring-slate-200"}`}
        >
          All
        </Link>
        {DELIVERY_STATUSES.map((status) => (
          <Link
            key={status}
            to={`/webhooks?status=${status}`}
            className={`rounded-md px-3 py-1 ${current === status ? "bg-slate-900 text-white" : "bg-white ring-1 ring-slate-200"}`}
          >
            {status.toLowerCase()}
          </Link>
        ))}
      </nav>

      {view.deliveries.length === 0 ? (
        <p className="mt-8 text-slate-600">
          No deliveries yet. They appear here when users of your apps connect integrations.
        </p>
      ) : (
        <table className="mt-4 w-full overflow-hidden rounded-lg bg-white text-left text-sm ring-1 ring-slate-200">
          <thead className="bg-slate-50 text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Status</th>
              <th className="px-4 py-2 font-medium">Event</th>
              <th className="px-4 py-2 font-medium">To</th>
              <th className="px-4 py-2 font-medium">Attempts</th>
              <th className="px-4 py-2 font-medium">Last response</th>
              <th className="px-4 py-2 font-medium">Created</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {view.deliveries.map((delivery) => (
              <tr key={delivery.id} data-testid="delivery-row">
                <td className="px-4 py-2">
                  <StatusChip status={delivery.status} />
                </td>
                <td className="px-4 py-2">
                  <Link to={`/webhooks/deliveries/${delivery.id}`} className="font-mono text-indigo-700 underline">
                    {delivery.eventType}
                  </Link>
                </td>
                <td className="px-4 py-2">{delivery.target}</td>
                <td className="px-4 py-2">
                  {delivery.attemptCount} / {delivery.maxAttempts}
                </td>
                <td className="px-4 py-2 text-slate-600">
                  {delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : (delivery.lastError ?? "—")}
                </td>
                <td className="px-4 py-2 text-slate-600">{formatDateTime(delivery.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.nextCursor ? (
        <Link
          to={`/webhooks?${new URLSearchParams({ ...(current ? { status: current } : {}), cursor: view.nextCursor })}`}
          className="mt-4 inline-block text-indigo-700 underline"
        >
          Older deliveries
        </Link>
      ) : null}
    </AppShell>
  );
}
