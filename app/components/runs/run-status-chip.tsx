import type { RunStatus } from "~/lib/runs/runs";

const STYLES: Record<RunStatus, string> = {
  queued: "bg-slate-100 text-slate-700 ring-slate-500/20",
  executing: "bg-sky-50 text-sky-700 ring-sky-600/20",
  retrying: "bg-amber-50 text-amber-800 ring-amber-600/20",
  completed: "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
  failed: "bg-red-50 text-red-700 ring-red-600/20",
  cancelled: "bg-zinc-100 text-zinc-600 ring-zinc-500/30",
};

export function RunStatusChip({ status, held = false }: { status: RunStatus; held?: boolean }) {
  return (
    <span
      data-testid="run-status"
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[status]}`}
    >
      {status}
      {held ? " · held" : ""}
    </span>
  );
}
