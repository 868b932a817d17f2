import type { HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { AppShell } from "~/components/app-shell";
import { LiveToggle, useLiveRefresh } from "~/components/runs/live-refresh";
import { RunsNav, TriggerDevBanner } from "~/components/runs/runs-nav";
import { env } from "~/env.server";
import { formatDateTime } from "~/lib/format";
import { formatAge, formatDuration } from "~/lib/runs/durations";
import { usesTriggerDev } from "~/services/jobs.server";
import { requireOperator } from "~/services/auth/operators.server";
import { presentQueues } from "~/services/runs/queues.server";

export const meta: MetaFunction = () => [{ title: "Queues · Runs · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const started = performance.now();
  const user = await requireOperator(request);
  const view = await presentQueues();
  return data(
    {
      user,
      view,
      now: new Date(),
      triggerDev: usesTriggerDev ? { dashboardUrl: env.TRIGGER_DASHBOARD_URL } : null,
    },
    {
      headers: {
        "Cache-Control": "no-store",
        "Server-Timing": `loader;dur=${(performance.now() - started).toFixed(1)}`,
      },
    },
  );
}

export const headers: HeadersFunction = ({ loaderHeaders }) => loaderHeaders;

const number = (value: number | null) => (value === null ? "—" : value.toLocaleString("en-US"));

export default function Queues() {
  const { user, view, now, triggerDev } = useLoaderData<typeof loader>();
  const [live, setLive] = useState(true);
  useLiveRefresh(live, 2_000);
  return (
    <AppShell user={user}>
      <div className="flex items-end justify-between">
        <div>
          <h1 className="text-2xl font-semibold">Queues</h1>
          <p className="mt-1 text-slate-600">
            What each task&apos;s queue holds now, against the limits its workers run it with.
          </p>
        </div>
        <LiveToggle live={live} onChange={setLive} />
      </div>
      <RunsNav />
      {triggerDev ? <TriggerDevBanner dashboardUrl={triggerDev.dashboardUrl} /> : null}
      {view.aliveWorkers === 0 && !triggerDev ? (
        <p role="alert" className="mt-4 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
          No worker has reported in the last few seconds: nothing is running these queues. Start Echo with
          WORKER_ENABLED=true (the default) somewhere.
        </p>
      ) : null}

      <div className="mt-4 overflow-x-auto rounded-lg bg-white ring-1 ring-slate-200">
        <table className="w-full text-left text-sm" aria-label="Queues">
          <thead className="bg-slate-50 text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Queue</th>
              <th className="px-4 py-2 font-medium">Limit</th>
              <th className="px-4 py-2 font-medium">In flight</th>
              <th className="px-4 py-2 font-medium">Queued (due)</th>
              <th className="px-4 py-2 font-medium">Scheduled</th>
              <th className="px-4 py-2 font-medium">Held</th>
              <th className="px-4 py-2 font-medium">Oldest waiting</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {view.queues.map((queue) => {
              const full = queue.totalLimit !== null && queue.inFlight >= queue.totalLimit;
              return (
                <tr key={queue.name} data-testid="queue-row" data-queue={queue.name} className="align-top">
                  <td className="px-4 py-2">
                    <Link to={`/runs?task=${queue.taskIds[0] ?? ""}`} className="font-medium text-indigo-700 underline">
                      {queue.name}
                    </Link>
                    {queue.taskIds.length > 1 ? (
                      <span className="block text-xs text-slate-500">{queue.taskIds.join(", ")}</span>
                    ) : null}
                  </td>
                  <td className="px-4 py-2">
                    {queue.limit === null ? (
                      <span className="text-slate-500">not reported</span>
                    ) : queue.scope === "process" ? (
                      <>
                        {number(queue.limit)} per worker
                        <span className="block text-xs text-slate-500">
                          {number(queue.totalLimit)} in all
                          {queue.perKey ? ` · ${number(queue.perKey)} per target per worker` : ""}
                        </span>
                      </>
                    ) : (
                      <>
                        {number(queue.limit)}
                        {queue.perKey ? (
                          <span className="block text-xs text-slate-500">{number(queue.perKey)} per key</span>
                        ) : null}
                      </>
                    )}
                  </td>
                  <td className={`px-4 py-2 ${full ? "font-semibold text-red-700" : ""}`}>{number(queue.inFlight)}</td>
                  <td className="px-4 py-2">{number(queue.queued)}</td>
                  <td className="px-4 py-2">{number(queue.scheduled)}</td>
                  <td className="px-4 py-2">{number(queue.held)}</td>
                  <td className={`px-4 py-2 ${(queue.oldestWaitingMs ?? 0) > 60_000 ? "text-red-700" : ""}`}>
                    {queue.oldestWaitingMs === null ? "—" : formatDuration(queue.oldestWaitingMs)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      {view.queues
        .filter((queue) => queue.keys.length > 0)
        .map((queue) => (
          <section key={queue.name} className="mt-8" data-testid="queue-keys" data-queue={queue.name}>
            <h2 className="text-lg font-semibold">
              {queue.name}: {queue.taskIds.includes("webhook-delivery") ? "by target" : "by concurrency key"}
            </h2>
            <p className="mt-1 text-sm text-slate-600">
              The busiest first; a saturated one has as many runs in flight as it may
              {queue.scope === "process" ? " on a worker" : ""}, and the rest of its runs wait however free the queue
              is.
            </p>
            <table className="mt-2 w-full rounded-lg bg-white text-left text-sm ring-1 ring-slate-200">
              <thead className="bg-slate-50 text-slate-500">
                <tr>
                  <th className="px-4 py-2 font-medium">Key</th>
                  <th className="px-4 py-2 font-medium">In flight</th>
                  <th className="px-4 py-2 font-medium">Queued (due)</th>
                  <th className="px-4 py-2 font-medium">Oldest waiting</th>
                  <th className="px-4 py-2 font-medium" />
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {queue.keys.map((key) => (
                  <tr
                    key={key.key}
                    className={key.saturated ? "bg-red-50" : ""}
                    data-testid="queue-key"
                    data-saturated={key.saturated}
                  >
                    <td className="px-4 py-2">
                      {key.label ?? <span className="font-mono text-xs">{key.key}</span>}
                      {key.label ? <span className="block font-mono text-xs text-slate-500">{key.key}</span> : null}
                    </td>
                    <td className="px-4 py-2">
                      {number(key.inFlight)}
                      {key.limit !== null ? <span className="text-slate-500"> / {number(key.limit)}</span> : null}
                    </td>
                    <td className="px-4 py-2">{number(key.queued)}</td>
                    <td className="px-4 py-2">
                      {key.oldestWaitingMs === null ? "—" : formatDuration(key.oldestWaitingMs)}
                    </td>
                    <td className="px-4 py-2">
                      {key.saturated ? (
                        <span className="rounded-full bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800">
                          saturated
                        </span>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}

      <h2 className="mt-8 text-lg font-semibold">Workers</h2>
      {view.workers.length === 0 ? (
        <p className="mt-2 text-sm text-slate-600">No worker has reported in the last hour.</p>
      ) : (
        <table className="mt-2 w-full rounded-lg bg-white text-left text-sm ring-1 ring-slate-200" aria-label="Workers">
          <tbody className="divide-y divide-slate-100">
            {view.workers.map((worker) => (
              <tr key={worker.id} data-testid="worker-row">
                <td className="px-4 py-2 font-mono text-xs">{worker.id}</td>
                <td className="px-4 py-2">
                  {worker.hostname} pid {worker.pid}
                </td>
                <td className="px-4 py-2 text-slate-600">started {formatDateTime(worker.startedAt)}</td>
                <td className={`px-4 py-2 ${worker.alive ? "text-emerald-700" : "text-red-700"}`}>
                  {worker.alive ? "alive" : "silent"}, seen {formatAge(worker.heartbeatAt, now)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </AppShell>
  );
}
