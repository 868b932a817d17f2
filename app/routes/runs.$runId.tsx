import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { IntentButton } from "~/components/intent-button";
import { LiveToggle, useLiveRefresh } from "~/components/runs/live-refresh";
import { RunStatusChip } from "~/components/runs/run-status-chip";
import { RunsNav } from "~/components/runs/runs-nav";
import { formatDateTime } from "~/lib/format";
import { formatAge, formatDuration } from "~/lib/runs/durations";
import { FINISHED_RUN_STATUSES } from "~/lib/runs/runs";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireOperator } from "~/services/auth/operators.server";
import { cancelRun, replayRun } from "~/services/runs/run-actions.server";
import { getRunDetail } from "~/services/runs/run-detail.server";
import { runIdOf } from "~/services/runs/run-params.server";
import { attemptService } from "~/services/service-result.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.run.taskId ?? "Run"} ${data?.run.id.slice(0, 17) ?? ""} · Runs · Echo` },
];

function runIdFrom(params: unknown): string {
  const runId = runIdOf(params);
  if (!runId) throw new Response("No such run.", { status: 404 });
  return runId;
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const started = performance.now();
  const user = await requireOperator(request);
  const run = await getRunDetail(runIdFrom(params));
  if (!run) throw new Response("No such run.", { status: 404 });
  return data(
    { user, run, now: new Date() },
    {
      headers: {
        "Cache-Control": "no-store",
        "Server-Timing": `loader;dur=${(performance.now() - started).toFixed(1)}`,
      },
    },
  );
}

export const headers: HeadersFunction = ({ loaderHeaders }) => loaderHeaders;

const ActionSchema = z.object({ intent: z.enum(["replay", "cancel"]) });

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireOperator(request);
  const form = await request.formData();
  await requireValidCsrf(request, form);
  const runId = runIdFrom(params);
  const parsed = ActionSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return data({ error: "Choose replay or cancel." }, { status: 400 });
  const actor = { id: user.id, email: user.email };
  if (parsed.data.intent === "cancel") {
    const result = await attemptService(() => cancelRun(runId, actor));
    if (!result.ok) return data({ error: result.message }, { status: result.status });
    return { error: undefined };
  }
  const result = await attemptService(() => replayRun(runId, actor));
  if (!result.ok) return data({ error: result.message }, { status: result.status });
  // A TaskRun's replay is a new run: show it. A delivery's is this run again.
  return result.value.runId === runId ? { error: undefined } : redirect(`/runs/${result.value.runId}`);
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-slate-500">{label}</dt>
      <dd className="break-all">{children}</dd>
    </div>
  );
}

function Json({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre
      className="mt-2 max-h-96 overflow-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100"
      data-testid={testId}
    >
      {typeof value === "string" ? value : JSON.stringify(value, null, 2)}
    </pre>
  );
}

const OUTCOME_STYLES: Record<string, string> = {
  completed: "bg-emerald-500",
  retrying: "bg-amber-500",
  failed: "bg-red-500",
  interrupted: "bg-zinc-500",
  executing: "bg-sky-500 animate-pulse",
};

export default function RunDetailPage() {
  const { user, run, now } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const finished = FINISHED_RUN_STATUSES.includes(run.status);
  const [live, setLive] = useState(true);
  // While the run can still change, the page follows it.
  useLiveRefresh(live && !finished);

  return (
    <AppShell user={user}>
      <Link to="/runs" className="text-sm text-indigo-700 underline">
        ← All runs
      </Link>
      <RunsNav />
      <div className="mt-4 flex flex-wrap items-center justify-between gap-3">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-xl font-semibold">{run.taskId}</h1>
          <RunStatusChip status={run.status} held={run.held} />
          <span className="font-mono text-xs text-slate-500" data-testid="run-id">
            {run.id}
          </span>
        </div>
        <div className="flex items-center gap-3">
          {!finished ? <LiveToggle live={live} onChange={setLive} /> : null}
          {run.canReplay ? (
            <IntentButton
              intent="replay"
              confirmation={
                run.source === "delivery"
                  ? "Send this delivery once more (the same webhook-id)?"
                  : "Run this task again with the same payload?"
              }
            >
              Replay
            </IntentButton>
          ) : null}
          {run.canCancel ? (
            <IntentButton
              intent="cancel"
              variant="danger"
              confirmation="Cancel this run? It will not be attempted again."
            >
              Cancel run
            </IntentButton>
          ) : null}
        </div>
      </div>
      {actionData?.error ? (
        <p role="alert" className="mt-3 rounded-md bg-red-50 p-3 text-sm text-red-800">
          {actionData.error}
        </p>
      ) : null}
      {run.replayOf ? (
        <p className="mt-3 text-sm text-slate-600" data-testid="replay-of">
          Replay of{" "}
          <Link to={`/runs/${run.replayOf}`} className="font-mono text-indigo-700 underline">
            {run.replayOf}
          </Link>
          .
        </p>
      ) : null}

      <dl className="mt-6 grid grid-cols-2 gap-x-8 gap-y-3 text-sm lg:grid-cols-4">
        <Field label="Created">
          {formatDateTime(run.createdAt)}{" "}
          <span className="whitespace-nowrap text-slate-500">({formatAge(run.createdAt, now)})</span>
        </Field>
        <Field label={run.status === "cancelled" ? "Cancelled" : "Finished"}>
          {run.completedAt ? formatDateTime(run.completedAt) : "—"}
        </Field>
        <Field label="Attempts">
          {run.attempt}
          {run.maxAttempts ? ` of ${run.maxAttempts}` : ""}
        </Field>
        <Field label="Next attempt">
          {run.held ? (
            "held (endpoint paused, or a test send in progress)"
          ) : run.nextAttemptAt ? (
            <span data-testid="next-attempt">{formatDateTime(run.nextAttemptAt)}</span>
          ) : (
            "—"
          )}
        </Field>
        <Field label="Idempotency key">
          <span className="font-mono text-xs">{run.idempotencyKey ?? "—"}</span>
        </Field>
        <Field label="Concurrency key">
          <span className="font-mono text-xs">{run.concurrencyKey ?? "—"}</span>
        </Field>
        <Field label="Lease">
          {run.lease ? (
            <span data-testid="lease">
              <span className="font-mono text-xs">{run.lease.workerId}</span>
              {run.lease.worker ? (
                <span className={`block text-xs ${run.lease.worker.alive ? "text-emerald-700" : "text-red-700"}`}>
                  {run.lease.worker.hostname} pid {run.lease.worker.pid} · {run.lease.worker.alive ? "alive" : "silent"}{" "}
                  (seen {formatAge(run.lease.worker.heartbeatAt, now)})
                </span>
              ) : (
                <span className="block text-xs text-slate-500">this worker has not reported itself</span>
              )}
              {run.lease.until ? (
                <span className="block text-xs text-slate-500">until {formatDateTime(run.lease.until)}</span>
              ) : null}
            </span>
          ) : (
            "—"
          )}
        </Field>
        <Field label="Trigger.dev">
          {run.trigger ? (
            run.trigger.url ? (
              <a
                href={run.trigger.url}
                className="font-mono text-xs text-indigo-700 underline"
                target="_blank"
                rel="noreferrer"
                data-testid="trigger-dev-run"
              >
                {run.trigger.runId}
              </a>
            ) : (
              <span className="font-mono text-xs">batch {run.trigger.batchId}</span>
            )
          ) : (
            "—"
          )}
        </Field>
      </dl>
      {run.lastError ? (
        <p
          className="mt-4 max-h-32 overflow-auto rounded-md bg-red-50 p-3 text-sm text-red-800"
          data-testid="last-error"
        >
          {run.lastError}
        </p>
      ) : null}

      <h2 className="mt-8 text-lg font-semibold">Attempts</h2>
      {run.attempts.length === 0 ? (
        <p className="mt-2 text-sm text-slate-600">No attempt yet.</p>
      ) : (
        <ol className="mt-4 space-y-4 border-l-2 border-slate-200 pl-6" aria-label="Attempts">
          {run.attempts.map((attempt) => (
            <li key={attempt.number} className="relative" data-testid="run-attempt">
              <span
                aria-hidden
                className={`absolute -left-[31px] top-1.5 h-3.5 w-3.5 rounded-full ring-4 ring-slate-50 ${OUTCOME_STYLES[attempt.outcome] ?? "bg-slate-400"}`}
              />
              <div className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
                <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
                  <span className="font-medium">Attempt #{attempt.number}</span>
                  <span className="font-medium">{attempt.outcome}</span>
                  <span>
                    {attempt.startedAt ? `started ${formatDateTime(attempt.startedAt)}` : "start not recorded"}
                  </span>
                  {attempt.endedAt ? <span>ended {formatDateTime(attempt.endedAt)}</span> : null}
                  <span className="text-slate-500">
                    {attempt.durationMs !== null
                      ? formatDuration(attempt.durationMs)
                      : attempt.startedAt
                        ? `running for ${formatDuration(new Date(now).getTime() - new Date(attempt.startedAt).getTime())}`
                        : ""}
                  </span>
                  {attempt.responseStatus !== null ? <span>HTTP {attempt.responseStatus}</span> : null}
                  {attempt.workerId ? (
                    <span className="font-mono text-xs text-slate-500">worker {attempt.workerId}</span>
                  ) : null}
                </div>
                {attempt.error ? (
                  <p
                    className="mt-2 max-h-40 overflow-auto whitespace-pre-wrap break-words text-sm text-red-700"
                    data-testid="attempt-error"
                  >
                    {attempt.error}
                  </p>
                ) : null}
                {attempt.stack ? (
                  <details className="mt-2" open={attempt.number === run.attempts.at(-1)?.number}>
                    <summary className="cursor-pointer text-sm text-slate-600">Stack</summary>
                    <pre
                      className="mt-1 max-h-80 overflow-auto rounded bg-slate-50 p-2 text-xs"
                      data-testid="attempt-stack"
                    >
                      {attempt.stack}
                    </pre>
                  </details>
                ) : null}
                {attempt.nextRetryAt ? (
                  <p className="mt-2 text-sm text-amber-800">
                    Retry planned for {formatDateTime(attempt.nextRetryAt)}.
                  </p>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
      )}

      <h2 className="mt-8 text-lg font-semibold">Payload</h2>
      <p className="mt-1 text-sm text-slate-600">Secrets and sealed input are never shown.</p>
      <Json value={run.payload} testId="run-payload" />

      {run.target ? (
        <>
          <h2 className="mt-8 text-lg font-semibold">Delivery</h2>
          <p className="mt-1 text-sm text-slate-600">
            To {run.target.kind === "endpoint" ? "the endpoint" : "the OAuth app"} <strong>{run.target.name}</strong> at{" "}
            <span className="font-mono">{run.target.url}</span>. The body sent (secret-named fields hidden):
          </p>
          <Json value={run.requestBody} />
        </>
      ) : null}

      {run.event ? (
        <>
          <h2 className="mt-8 text-lg font-semibold">Event</h2>
          <dl className="mt-2 grid grid-cols-2 gap-x-8 gap-y-2 text-sm lg:grid-cols-4" data-testid="run-event">
            <Field label="Event">
              <span className="font-mono text-xs">{run.event.type}</span>
              <span className="block font-mono text-xs text-slate-500">{run.event.id}</span>
            </Field>
            <Field label="Recorded">{formatDateTime(run.event.createdAt)}</Field>
            <Field label="Handed to the job engine">
              {run.event.dispatchedAt
                ? formatDateTime(run.event.dispatchedAt)
                : (run.event.lastDispatchError ?? "not yet")}
            </Field>
            <Field label="Fan-out run">
              {run.event.fanOutRunId ? (
                run.event.fanOutRunId === run.id ? (
                  "this run"
                ) : (
                  <Link to={`/runs/${run.event.fanOutRunId}`} className="font-mono text-xs text-indigo-700 underline">
                    {run.event.fanOutRunId}
                  </Link>
                )
              ) : run.event.trigger?.url ? (
                <a href={run.event.trigger.url} className="font-mono text-xs text-indigo-700 underline">
                  {run.event.trigger.runId} (Trigger.dev)
                </a>
              ) : run.event.trigger?.batchId ? (
                <span className="font-mono text-xs">Trigger.dev batch {run.event.trigger.batchId}</span>
              ) : (
                "—"
              )}
            </Field>
          </dl>
        </>
      ) : null}

      {run.deliveries.length > 0 || run.event ? (
        <>
          <h2 className="mt-8 text-lg font-semibold">
            {run.source === "delivery" ? "The event's other deliveries" : "Deliveries it produced"}{" "}
            <span className="text-sm font-normal text-slate-500">({run.deliveryCount})</span>
          </h2>
          {run.deliveries.length === 0 ? (
            <p className="mt-2 text-sm text-slate-600">None.</p>
          ) : (
            <table className="mt-2 w-full rounded-lg bg-white text-left text-sm ring-1 ring-slate-200">
              <tbody className="divide-y divide-slate-100">
                {run.deliveries.map((delivery) => (
                  <tr key={delivery.runId} data-testid="run-delivery">
                    <td className="px-4 py-2">
                      <RunStatusChip status={delivery.status} />
                    </td>
                    <td className="px-4 py-2">
                      <Link to={`/runs/${delivery.runId}`} className="text-indigo-700 underline">
                        {delivery.target}
                      </Link>
                    </td>
                    <td className="truncate px-4 py-2 font-mono text-xs">{delivery.url}</td>
                    <td className="px-4 py-2">{delivery.attempts} attempts</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {run.deliveryCount > run.deliveries.length ? (
            <p className="mt-2 text-sm text-slate-600">
              The first {run.deliveries.length} of {run.deliveryCount};{" "}
              <Link to={`/runs?q=${run.event?.id ?? ""}`} className="text-indigo-700 underline">
                all of them
              </Link>
              .
            </p>
          ) : null}
        </>
      ) : null}

      <h2 className="mt-8 text-lg font-semibold">History</h2>
      {run.actions.length === 0 ? (
        <p className="mt-2 text-sm text-slate-600">Nobody has replayed or cancelled this run.</p>
      ) : (
        <ul className="mt-2 space-y-1 text-sm" data-testid="run-actions">
          {run.actions.map((entry) => (
            <li key={`${entry.kind}-${entry.createdAt}-${entry.runId}`}>
              {formatDateTime(entry.createdAt)}: <strong>{entry.actorEmail}</strong>{" "}
              {entry.kind === "cancel"
                ? "cancelled it"
                : entry.runId === run.id && entry.resultRunId && entry.resultRunId !== run.id
                  ? "replayed it as "
                  : entry.runId === run.id
                    ? "replayed it (one more attempt)"
                    : "created it as a replay of "}
              {entry.kind === "replay" &&
              entry.runId === run.id &&
              entry.resultRunId &&
              entry.resultRunId !== run.id ? (
                <Link to={`/runs/${entry.resultRunId}`} className="font-mono text-xs text-indigo-700 underline">
                  {entry.resultRunId}
                </Link>
              ) : null}
              {entry.kind === "replay" && entry.runId !== run.id ? (
                <Link to={`/runs/${entry.runId}`} className="font-mono text-xs text-indigo-700 underline">
                  {entry.runId}
                </Link>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </AppShell>
  );
}
