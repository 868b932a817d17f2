import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { ClientOnly } from "~/components/client-only";
import { DeliveriesChart, ResponseTimeChart, type ChartPoint } from "~/components/endpoint-charts.client";
import { prisma } from "~/db.server";
import { formatDateTime } from "~/lib/format";
import { getEndpoint } from "~/models/webhook-endpoint.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";
import { STATS_WINDOWS, getEndpointStats, type StatsWindow } from "~/services/webhooks/endpoint-stats.server";
import { endpointIdParam } from "~/services/webhooks/endpoint-params.server";

export const meta: MetaFunction = () => [{ title: "Endpoint stats · Echo" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const endpointId = endpointIdParam(params);
  const windows = Object.keys(STATS_WINDOWS) as [StatsWindow, ...StatsWindow[]];
  // An unknown window (an old link) shows the default one.
  const { window } = z
    .object({ window: z.enum(windows).catch("24h").default("24h") })
    .parse(Object.fromEntries(new URL(request.url).searchParams));
  const actor = { userId: user.id };
  const endpoint = await getEndpoint(prisma, actor, endpointId);
  if (!endpoint) throw new Response("No such endpoint.", { status: 404 });
  const stats = await attemptService(() => getEndpointStats(actor, endpoint.id, window));
  if (!stats.ok) throw new Response(stats.message, { status: stats.status });
  return { user, endpoint: { id: endpoint.id, name: endpoint.name }, stats: stats.value, windows };
}

/** Bucket labels in UTC, like every time Echo shows; precise enough for the window. */
function bucketLabel(iso: string, window: StatsWindow): string {
  if (window === "1h" || window === "24h") return iso.slice(11, 16);
  if (window === "7d") return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return iso.slice(5, 10);
}

const ms = (value: number | null) => (value === null ? "—" : `${Math.round(value)} ms`);

function ChartPlaceholder() {
  return (
    <div className="flex h-[280px] items-center justify-center rounded bg-slate-50 text-sm text-slate-500">
      Loading chart…
    </div>
  );
}

export default function EndpointStats() {
  const { user, endpoint, stats, windows } = useLoaderData<typeof loader>();
  const points: ChartPoint[] = stats.series.map((bucket) => ({
    label: bucketLabel(bucket.start, stats.window),
    ...bucket.counts,
    ...bucket.responseTimeMs,
  }));
  const summary = [
    ["Deliveries", String(stats.counts.total)],
    ["Success rate", stats.successRate === null ? "—" : `${(stats.successRate * 100).toFixed(1)} %`],
    ["Succeeded", String(stats.counts.SUCCESS)],
    ["Failed", String(stats.counts.FAILED)],
    ["Retrying", String(stats.counts.RETRYING)],
    ["Waiting", String(stats.counts.PENDING + stats.counts.SENDING)],
  ] as const;
  return (
    <AppShell user={user}>
      <Link to={`/webhooks/endpoints/${endpoint.id}`} className="text-sm text-indigo-700 underline">
        ← {endpoint.name}
      </Link>
      <h1 className="mt-2 text-2xl font-semibold">Stats: {endpoint.name}</h1>
      <p className="mt-1 text-sm text-slate-600">
        From {formatDateTime(stats.from)} to {formatDateTime(stats.to)}.
      </p>
      <nav className="mt-4 flex gap-2 text-sm" aria-label="Time window">
        {windows.map((window) => (
          <Link
            key={window}
            to={`?window=${window}`}
            aria-current={window === stats.window ? "page" : undefined}
            className={`rounded-md px-3 py-1 ${window === stats.window ? "bg-slate-900 text-white" : "bg-white ring-1 ring-slate-200"}`}
          >
            {window}
          </Link>
        ))}
      </nav>

      <dl className="mt-6 grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-6" data-testid="stats-summary">
        {summary.map(([label, value]) => (
          <div key={label} className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
            <dt className="text-xs text-slate-500">{label}</dt>
            <dd className="mt-1 text-xl font-semibold">{value}</dd>
          </div>
        ))}
      </dl>

      <div className="mt-4 grid gap-4 sm:grid-cols-2">
        {(
          [
            ["Response time (one attempt)", stats.responseTimeMs],
            ["Delivery latency (event to success, retries included)", stats.deliveryLatencyMs],
          ] as const
        ).map(([label, percentiles]) => (
          <div key={label} className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
            <h2 className="text-sm font-medium text-slate-700">{label}</h2>
            <dl className="mt-2 flex gap-6 text-sm">
              {(["p50", "p95", "p99"] as const).map((key) => (
                <div key={key}>
                  <dt className="text-xs text-slate-500">{key}</dt>
                  <dd className="font-semibold">{ms(percentiles[key])}</dd>
                </div>
              ))}
            </dl>
          </div>
        ))}
      </div>

      <section className="mt-6 rounded-lg bg-white p-4 ring-1 ring-slate-200" aria-labelledby="deliveries-chart">
        <h2 id="deliveries-chart" className="text-sm font-medium text-slate-700">
          Deliveries over time, by status
        </h2>
        <div className="mt-2" data-testid="deliveries-chart">
          <ClientOnly fallback={<ChartPlaceholder />}>{() => <DeliveriesChart points={points} />}</ClientOnly>
        </div>
      </section>
      <section className="mt-6 rounded-lg bg-white p-4 ring-1 ring-slate-200" aria-labelledby="latency-chart">
        <h2 id="latency-chart" className="text-sm font-medium text-slate-700">
          Response time: p50, p95, p99
        </h2>
        <div className="mt-2" data-testid="latency-chart">
          <ClientOnly fallback={<ChartPlaceholder />}>{() => <ResponseTimeChart points={points} />}</ClientOnly>
        </div>
      </section>
    </AppShell>
  );
}
