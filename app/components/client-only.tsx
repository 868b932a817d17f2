import { useEffect, useState } from "react";

/**
 * Renders `children` only in the browser, after hydration; the server (and the first client
 * render, so the two match) shows `fallback`. For widgets that measure the DOM or set inline
 * styles, which the CSP forbids in server-rendered HTML.
 */
export function ClientOnly({ children, fallback }: { children: () => React.ReactNode; fallback: React.ReactNode }) {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return <>{hydrated ? children() : fallback}</>;
}
