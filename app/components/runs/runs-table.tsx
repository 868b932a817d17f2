import { Link } from "@remix-run/react";
import { formatDateTime } from "~/lib/format";
import { formatAge } from "~/lib/runs/durations";
import type { RunStatus } from "~/lib/runs/runs";
import { RunStatusChip } from "./run-status-chip";

export type RunRow = {
  id: string;
  taskId: string;
  status: RunStatus;
  attempt: number;
  maxAttempts: number | null;
  createdAt: string | Date;
  completedAt: string | Date | null;
  nextAttemptAt: string | Date | null;
  held: boolean;
  lockedBy: string | null;
  lastError: string | null;
  subject: string;
};

/** What a run is doing now, in a line: why it failed, when it goes next, who holds it. */
function RunNote({ run, now }: { run: RunRow; now: string | Date }) {
  if (run.status === "executing")
    return <span className="text-sky-800">{run.lockedBy ? `on ${run.lockedBy}` : "executing"}</span>;
  if (run.held) return <span className="text-slate-600">held: endpoint paused or a test send in progress</span>;
  if ((run.status === "queued" || run.status === "retrying") && run.nextAttemptAt) {
    const due = new Date(run.nextAttemptAt).getTime() <= new Date(now).getTime();
    return (
      <span className={run.status === "retrying" ? "text-amber-800" : "text-slate-600"}>
        {due
          ? `due since ${formatAge(run.nextAttemptAt, now).replace(/ ago$/, "")}`
          : `next at ${formatDateTime(run.nextAttemptAt)}`}
        {run.lastError ? <span className="block truncate text-xs text-slate-500">{run.lastError}</span> : null}
      </span>
    );
  }
  if (run.lastError && (run.status === "failed" || run.status === "cancelled" || run.status === "retrying"))
    return (
      <span className="line-clamp-2 text-red-700" title={run.lastError}>
        {run.lastError}
      </span>
    );
  return <span className="text-slate-400">—</span>;
}

export function RunsTable({ runs, now }: { runs: RunRow[]; now: string | Date }) {
  return (
    <div className="mt-4 overflow-x-auto rounded-lg bg-white ring-1 ring-slate-200">
      <table className="w-full table-fixed text-left text-sm">
        <thead className="bg-slate-50 text-slate-500">
          <tr>
            <th className="w-28 px-4 py-2 font-medium">Status</th>
            <th className="w-72 px-4 py-2 font-medium">Run</th>
            <th className="px-4 py-2 font-medium">About</th>
            <th className="w-20 px-4 py-2 font-medium">Attempt</th>
            <th className="w-36 px-4 py-2 font-medium">Created</th>
            <th className="w-64 px-4 py-2 font-medium">Now</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {runs.map((run) => (
            <tr key={run.id} data-testid="run-row" data-run-id={run.id} className="align-top">
              <td className="px-4 py-2">
                <RunStatusChip status={run.status} held={run.held} />
              </td>
              <td className="px-4 py-2">
                <Link to={`/runs/${run.id}`} className="font-medium text-indigo-700 underline">
                  {run.taskId}
                </Link>
                <span className="block truncate font-mono text-xs text-slate-500" title={run.id}>
                  {run.id}
                </span>
              </td>
              <td className="truncate px-4 py-2 font-mono text-xs text-slate-700" title={run.subject}>
                {run.subject || "—"}
              </td>
              <td className="px-4 py-2">
                {run.attempt}
                {run.maxAttempts ? ` / ${run.maxAttempts}` : ""}
              </td>
              <td className="px-4 py-2 text-slate-600" title={formatDateTime(run.createdAt)}>
                {formatAge(run.createdAt, now)}
              </td>
              <td className="px-4 py-2 text-xs">
                <RunNote run={run} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
