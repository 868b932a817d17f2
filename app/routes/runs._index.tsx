import type { HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { AppShell } from "~/components/app-shell";
import { LiveToggle, useLiveRefresh } from "~/components/runs/live-refresh";
import { RunsNav, TriggerDevBanner } from "~/components/runs/runs-nav";
import { RunsTable } from "~/components/runs/runs-table";
import { RUN_STATUSES, RUN_TASK_IDS } from "~/lib/runs/runs";
import { presentRunList, type RunListForm } from "~/presenters/RunListPresenter.server";
import { requireOperator } from "~/services/auth/operators.server";

export const meta: MetaFunction = () => [{ title: "Runs · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const started = performance.now();
  const user = await requireOperator(request);
  const view = await presentRunList(new URL(request.url).searchParams);
  return data(
    { user, view },
    {
      status: view.error ? 400 : 200,
      headers: {
        "Cache-Control": "no-store",
        // How long the server spent on the page's data (the figure docs/PERFORMANCE.md reports).
        "Server-Timing": `loader;dur=${(performance.now() - started).toFixed(1)}`,
      },
    },
  );
}

export const headers: HeadersFunction = ({ loaderHeaders }) => loaderHeaders;

function listHref(form: RunListForm & { cursor?: string }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value) params.set(key, value);
  const search = params.toString();
  return search ? `/runs?${search}` : "/runs";
}

const SELECT = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";
const INPUT = "mt-1 block rounded-md border border-slate-300 px-2 py-1.5 text-sm";

/** Quick time ranges, relative to when the page was rendered. */
const RANGES = [
  { label: "15 min", ms: 15 * 60_000 },
  { label: "1 h", ms: 3_600_000 },
  { label: "24 h", ms: 24 * 3_600_000 },
  { label: "7 days", ms: 7 * 24 * 3_600_000 },
];

export default function Runs() {
  const { user, view } = useLoaderData<typeof loader>();
  const { form } = view;
  // New runs appear on their own on the first page; an older page stays as it is.
  const [live, setLive] = useState(true);
  // Every 750 ms: a new run shows within a second of being created.
  useLiveRefresh(live && !view.paged, 750);
  const filtered = Boolean(form.task || form.status || form.since || form.until || form.q);
  const errorFor = (field: string) =>
    view.error?.field === field ? (
      <span role="alert" className="mt-1 block text-xs text-red-700">
        {view.error.message}
      </span>
    ) : null;

  return (
    <AppShell user={user}>
      <div className="flex items-end justify-between">
        <div>
          <h1 className="text-2xl font-semibold">Runs</h1>
          <p className="mt-1 text-slate-600">
            Every run of Echo&apos;s tasks: fan-outs, integration runs and health checks, and each webhook delivery.
          </p>
        </div>
        {!view.paged ? <LiveToggle live={live} onChange={setLive} /> : null}
      </div>
      <RunsNav />
      {view.triggerDev ? <TriggerDevBanner dashboardUrl={view.triggerDev.dashboardUrl} /> : null}

      <Form method="get" className="mt-4 flex flex-wrap items-end gap-3" aria-label="Filters">
        <label className="text-sm text-slate-700">
          Task
          <select name="task" defaultValue={form.task ?? ""} className={SELECT}>
            <option value="">any</option>
            {RUN_TASK_IDS.map((task) => (
              <option key={task} value={task}>
                {task}
              </option>
            ))}
          </select>
          {errorFor("task")}
        </label>
        <label className="text-sm text-slate-700">
          Status
          <select name="status" defaultValue={form.status ?? ""} className={SELECT}>
            <option value="">any</option>
            {RUN_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
          {errorFor("status")}
        </label>
        <label className="text-sm text-slate-700">
          Created after (UTC)
          <input type="datetime-local" name="since" defaultValue={form.since ?? ""} className={INPUT} />
          {errorFor("since")}
        </label>
        <label className="text-sm text-slate-700">
          Created before (UTC)
          <input type="datetime-local" name="until" defaultValue={form.until ?? ""} className={INPUT} />
          {errorFor("until")}
        </label>
        <label className="text-sm text-slate-700">
          Id or idempotency key
          <input
            type="search"
            name="q"
            defaultValue={form.q ?? ""}
            placeholder="run, delivery or event id, or a key"
            className={`${INPUT} w-72`}
          />
          {errorFor("q")}
        </label>
        <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm">
          Filter
        </button>
        {filtered ? (
          <Link to="/runs" className="text-sm text-indigo-700 underline">
            Clear filters
          </Link>
        ) : null}
      </Form>
      <p className="mt-2 flex flex-wrap gap-3 text-xs text-slate-500">
        Created in the last
        {RANGES.map((range) => (
          <Link
            key={range.label}
            to={listHref({
              ...form,
              since: new Date(new Date(view.now).getTime() - range.ms).toISOString().slice(0, 16),
              until: undefined,
            })}
            className="text-indigo-700 underline"
          >
            {range.label}
          </Link>
        ))}
      </p>
      {view.error && !["task", "status", "since", "until", "q"].includes(view.error.field ?? "") ? (
        <p role="alert" className="mt-4 rounded-md bg-red-50 p-3 text-sm text-red-800">
          {view.error.message}
        </p>
      ) : null}

      {view.runs.length === 0 ? (
        <p className="mt-8 text-slate-600" data-testid="no-runs">
          {filtered ? "No runs match these filters." : "No runs yet. They appear here as soon as events happen."}
        </p>
      ) : (
        <RunsTable runs={view.runs} now={view.now} />
      )}
      <div className="mt-4 flex gap-4">
        {view.paged ? (
          <Link to={listHref(form)} className="text-indigo-700 underline">
            Newest runs
          </Link>
        ) : null}
        {view.nextCursor ? (
          <Link to={listHref({ ...form, cursor: view.nextCursor })} className="text-indigo-700 underline">
            Older runs
          </Link>
        ) : null}
      </div>
    </AppShell>
  );
}
