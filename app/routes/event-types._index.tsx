import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import type { EventTypeKind } from "~/lib/events/catalog";
import { requireUser } from "~/services/auth/session.server";
import { listEventCatalog } from "~/services/webhooks/event-types.server";

export const meta: MetaFunction = () => [{ title: "Event types · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const catalog = await listEventCatalog({ includeArchived: true });
  return {
    user,
    canManage: user.isOperator,
    types: catalog.map(({ type, kind, description, archived }) => ({ type, kind, description, archived })),
  };
}

type Row = { type: string; kind: EventTypeKind; description: string; archived: boolean };

function TypeTable({ title, intro, rows, testId }: { title: string; intro: string; rows: Row[]; testId: string }) {
  return (
    <section className="mt-8" data-testid={testId}>
      <h2 className="text-lg font-semibold">{title}</h2>
      <p className="mt-1 text-sm text-slate-600">{intro}</p>
      <table className="mt-3 w-full overflow-hidden rounded-lg bg-white text-left text-sm ring-1 ring-slate-200">
        <thead className="bg-slate-50 text-slate-500">
          <tr>
            <th className="w-72 px-4 py-2 font-medium">Type</th>
            <th className="px-4 py-2 font-medium">When</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((row) => (
            <tr key={row.type} data-testid="event-type-row">
              <td className="px-4 py-2 align-top">
                <Link to={`/event-types/${row.type}`} className="font-mono text-indigo-700 underline">
                  {row.type}
                </Link>
              </td>
              <td className="px-4 py-2 text-slate-700">{row.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export default function EventTypes() {
  const { user, canManage, types } = useLoaderData<typeof loader>();
  const custom = types.filter((row) => row.kind === "custom" && !row.archived);
  const archived = types.filter((row) => row.archived);
  return (
    <AppShell user={user}>
      <div className="flex items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Event types</h1>
          <p className="mt-1 max-w-2xl text-slate-600">
            The catalog endpoints subscribe to: your product&apos;s own events, published with{" "}
            <code>POST /api/v1/events</code>, and the events Echo raises itself.
          </p>
        </div>
        {canManage ? (
          <Link
            to="/event-types/new"
            className="whitespace-nowrap rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500"
          >
            New event type
          </Link>
        ) : null}
      </div>

      {custom.length === 0 ? (
        <section className="mt-8" data-testid="custom-event-types">
          <h2 className="text-lg font-semibold">Your product&apos;s events</h2>
          <p className="mt-1 text-sm text-slate-600">
            {canManage
              ? "None yet. Add one, then publish events of it with an API key."
              : "None yet. An operator adds them; you can then subscribe endpoints and publish events of them."}
          </p>
        </section>
      ) : (
        <TypeTable
          title="Your product's events"
          intro="Published through the API, checked against their JSON Schema, delivered to every subscribed endpoint."
          rows={custom}
          testId="custom-event-types"
        />
      )}
      <TypeTable
        title="Echo's events"
        intro="Raised by Echo when integrations, grants and test sends happen."
        rows={types.filter((row) => row.kind === "built-in")}
        testId="built-in-event-types"
      />
      <TypeTable
        title="Operational events"
        intro="Raised by the delivery pipeline about your own endpoints. An endpoint receives them only if it names them."
        rows={types.filter((row) => row.kind === "operational")}
        testId="operational-event-types"
      />
      {archived.length > 0 ? (
        <TypeTable
          title="Archived"
          intro="Nothing more can be published; endpoints keep their subscriptions."
          rows={archived}
          testId="archived-event-types"
        />
      ) : null}
    </AppShell>
  );
}
