import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { EndpointStateChip } from "~/components/endpoint-state-chip";
import { prisma } from "~/db.server";
import { presentWebhookEndpointList } from "~/presenters/WebhookEndpointListPresenter.server";
import { requireUser } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "Webhook endpoints · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { user, view: await presentWebhookEndpointList(prisma, user.id) };
}

export default function WebhookEndpoints() {
  const { user, view } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user}>
      <div className="flex items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Webhook endpoints</h1>
          <p className="mt-1 text-slate-600">URLs that receive Echo&apos;s events, signed, with retries and a log.</p>
        </div>
        {view.atLimit ? (
          <div className="text-right">
            <button
              type="button"
              disabled
              aria-describedby="endpoint-limit"
              className="cursor-not-allowed rounded-md bg-slate-300 px-4 py-2 text-sm font-medium text-white"
            >
              New endpoint
            </button>
            <p id="endpoint-limit" className="mt-1 max-w-xs text-xs text-slate-500">
              You have {view.limit} endpoints, the most Echo allows; delete one to add another.
            </p>
          </div>
        ) : (
          <Link
            to="/webhooks/endpoints/new"
            className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500"
          >
            New endpoint
          </Link>
        )}
      </div>

      {view.endpoints.length === 0 ? (
        <p className="mt-8 text-slate-600">No endpoints yet. Add one to receive events at your own URL.</p>
      ) : (
        <table className="mt-6 w-full overflow-hidden rounded-lg bg-white text-left text-sm ring-1 ring-slate-200">
          <thead className="bg-slate-50 text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Name</th>
              <th className="px-4 py-2 font-medium">URL</th>
              <th className="px-4 py-2 font-medium">Events</th>
              <th className="px-4 py-2 font-medium">State</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {view.endpoints.map((endpoint) => (
              <tr key={endpoint.id} data-testid="endpoint-row">
                <td className="px-4 py-2">
                  <Link to={`/webhooks/endpoints/${endpoint.id}`} className="font-medium text-indigo-700 underline">
                    {endpoint.name}
                  </Link>
                  {endpoint.registeredBy ? (
                    <span className="block text-xs text-slate-500">registered by {endpoint.registeredBy}</span>
                  ) : null}
                </td>
                <td className="max-w-xs break-all px-4 py-2 font-mono text-xs">{endpoint.url}</td>
                <td className="px-4 py-2">
                  {endpoint.eventTypes.length === 0 ? (
                    <span className="text-slate-600">all events</span>
                  ) : (
                    <ul className="space-y-0.5">
                      {endpoint.eventTypes.map((type) => (
                        <li key={type} className="font-mono text-xs">
                          {type}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="px-4 py-2">
                  <EndpointStateChip state={endpoint.state} />
                  {endpoint.state.kind === "disabled" ? (
                    <span className="mt-1 block max-w-xs text-xs text-red-700">{endpoint.state.reason}</span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </AppShell>
  );
}
