import type { EndpointState } from "~/lib/webhooks/endpoint-state";

const STYLES: Record<EndpointState["kind"], string> = {
  active: "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
  paused: "bg-amber-50 text-amber-800 ring-amber-600/20",
  off: "bg-slate-100 text-slate-700 ring-slate-500/20",
  disabled: "bg-red-50 text-red-700 ring-red-600/20",
};

export function EndpointStateChip({ state }: { state: EndpointState }) {
  return (
    <span
      data-testid="endpoint-state"
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[state.kind]}`}
    >
      {state.label}
    </span>
  );
}
