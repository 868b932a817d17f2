import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { DeliveriesTable } from "~/components/deliveries-table";
import { prisma } from "~/db.server";
import { DELIVERY_STATUSES } from "~/lib/webhooks/delivery-status";
import { DeliveryListQuerySchema, presentWebhookDeliveryList } from "~/presenters/WebhookDeliveryListPresenter.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";

export const meta: MetaFunction = () => [{ title: "Webhook deliveries · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const query = DeliveryListQuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const view = await attemptService(() => presentWebhookDeliveryList(prisma, user.id, query));
  if (!view.ok) throw new Response(view.message, { status: 400 });
  const { cursor, ...filters } = query;
  return { user, view: view.value, filters, paged: Boolean(cursor) };
}

type Filters = Partial<Record<"status" | "eventType" | "endpointId" | "oauthAppId" | "cursor", string>>;

function logHref(filters: Filters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  const search = params.toString();
  return search ? `/webhooks?${search}` : "/webhooks";
}

const SELECT = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

export default function WebhookDeliveries() {
  const { user, view, filters, paged } = useLoaderData<typeof loader>();
  const filtered = Boolean(filters.status || filters.eventType || filters.endpointId || filters.oauthAppId);
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">Webhook deliveries</h1>
      <p className="mt-1 text-slate-600">
        Every event sent to your endpoints and to the webhook URLs of your OAuth apps, with every attempt.
      </p>

      {view.disabled.map((target) => (
        <div
          key={`${target.kind}:${target.id}`}
          role="alert"
          className="mt-4 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800"
        >
          Webhooks for{" "}
          {target.kind === "endpoint" ? (
            <Link to={`/webhooks/endpoints/${target.id}`} className="font-semibold underline">
              {target.name}
            </Link>
          ) : (
            <strong>{target.name}</strong>
          )}{" "}
          are disabled: {target.reason}
        </div>
      ))}

      <nav className="mt-6 flex flex-wrap gap-2 text-sm" aria-label="Filter by status">
        <Link
          to={logHref({ ...filters, status: undefined })}
          className={`rounded-md px-3 py-1 ${!filters.status ? "bg-slate-900 text-white" : "bg-white ring-1 ring-slate-200"}`}
        >
          All
        </Link>
        {DELIVERY_STATUSES.map((status) => (
          <Link
            key={status}
            to={logHref({ ...filters, status })}
            className={`rounded-md px-3 py-1 ${filters.status === status ? "bg-slate-900 text-white" : "bg-white ring-1 ring-slate-200"}`}
          >
            {status.toLowerCase()}
          </Link>
        ))}
      </nav>

      <Form method="get" className="mt-4 flex flex-wrap items-end gap-3" aria-label="Filters">
        {filters.status ? <input type="hidden" name="status" value={filters.status} /> : null}
        <label className="text-sm text-slate-700">
          Event type
          <select name="eventType" defaultValue={filters.eventType ?? ""} className={SELECT}>
            <option value="">any</option>
            {view.filterOptions.eventTypes.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm text-slate-700">
          Endpoint
          <select name="endpointId" defaultValue={filters.endpointId ?? ""} className={SELECT}>
            <option value="">any</option>
            {view.filterOptions.endpoints.map((endpoint) => (
              <option key={endpoint.id} value={endpoint.id}>
                {endpoint.name}
              </option>
            ))}
          </select>
        </label>
        {view.filterOptions.apps.length > 0 ? (
          <label className="text-sm text-slate-700">
            OAuth app
            <select name="oauthAppId" defaultValue={filters.oauthAppId ?? ""} className={SELECT}>
              <option value="">any</option>
              {view.filterOptions.apps.map((app) => (
                <option key={app.id} value={app.id}>
                  {app.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm">
          Filter
        </button>
        {filtered ? (
          <Link to="/webhooks" className="text-sm text-indigo-700 underline">
            Clear filters
          </Link>
        ) : null}
      </Form>

      {view.deliveries.length === 0 ? (
        <p className="mt-8 text-slate-600">
          {filtered
            ? "No deliveries match these filters."
            : "No deliveries yet. They appear here when events are sent to your endpoints or apps."}
        </p>
      ) : (
        <DeliveriesTable deliveries={view.deliveries} />
      )}
      <div className="mt-4 flex gap-4">
        {paged ? (
          <Link to={logHref(filters)} className="text-indigo-700 underline">
            Newest deliveries
          </Link>
        ) : null}
        {view.nextCursor ? (
          <Link to={logHref({ ...filters, cursor: view.nextCursor })} className="text-indigo-700 underline">
            Older deliveries
          </Link>
        ) : null}
      </div>
    </AppShell>
  );
}
