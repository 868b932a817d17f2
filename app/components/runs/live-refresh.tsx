import { useRevalidator } from "@remix-run/react";
import { useEffect, useRef } from "react";

/**
 * Reloads the page's data (not the page) every `intervalMs` while `enabled` and the tab is
 * visible, one request at a time: Remix's revalidation re-runs the loaders and re-renders.
 */
export function useLiveRefresh(enabled: boolean, intervalMs = 1_000): void {
  const revalidator = useRevalidator();
  const latest = useRef(revalidator);
  latest.current = revalidator;
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && latest.current.state === "idle") latest.current.revalidate();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [enabled, intervalMs]);
}

/** Says whether the page is refreshing itself, and lets the reader pause it. */
export function LiveToggle({ live, onChange }: { live: boolean; onChange: (live: boolean) => void }) {
  return (
    <label className="inline-flex items-center gap-2 text-sm text-slate-600">
      <input type="checkbox" checked={live} onChange={(event) => onChange(event.target.checked)} />
      <span>
        Live
        {live ? (
          <span className="ml-1 inline-block h-2 w-2 animate-pulse rounded-full bg-emerald-500" aria-hidden />
        ) : null}
      </span>
    </label>
  );
}
