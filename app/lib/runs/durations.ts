/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min": short, and the same on the server and in the browser. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  const abs = Math.max(0, Math.round(ms));
  if (abs < 1_000) return `${abs} ms`;
  if (abs < 60_000) return `${(abs / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(abs / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((abs % 60_000) / 1_000)).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long ago `then` was, as of `now` (both from the server, so SSR and hydration agree). */
export function formatAge(then: Date | string, now: Date | string): string {
  return `${formatDuration(new Date(now).getTime() - new Date(then).getTime())} ago`;
}
