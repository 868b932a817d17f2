const STYLES: Record<string, string> = {
  SUCCESS: "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
  FAILED: "bg-red-50 text-red-700 ring-red-600/20",
  RETRYING: "bg-amber-50 text-amber-800 ring-amber-600/20",
  SENDING: "bg-sky-50 text-sky-700 ring-sky-600/20",
  PENDING: "bg-slate-100 text-slate-700 ring-slate-500/20",
};

export function StatusChip({ status }: { status: string }) {
  return (
    <span
      data-testid="delivery-status"
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[status] ?? STYLES.PENDING}`}
    >
      {status.toLowerCase()}
    </span>
  );
}
