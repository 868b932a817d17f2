import { Link, useLocation } from "@remix-run/react";

/** The runs console's own tabs: Queues, and Runs (the list and each run's page). */
export function RunsNav() {
  const { pathname } = useLocation();
  const onQueues = pathname.startsWith("/runs/queues");
  const tab = (active: boolean) =>
    `rounded-md px-3 py-1 text-sm ${active ? "bg-slate-900 text-white" : "bg-white ring-1 ring-slate-200 hover:bg-slate-50"}`;
  return (
    <nav className="mt-4 flex gap-2" aria-label="Runs console">
      <Link to="/runs" className={tab(!onQueues)} aria-current={!onQueues ? "page" : undefined}>
        Runs
      </Link>
      <Link to="/runs/queues" className={tab(onQueues)} aria-current={onQueues ? "page" : undefined}>
        Queues
      </Link>
    </nav>
  );
}

/** With TRIGGER_SECRET_KEY set, the engine's runs are Trigger.dev's: say so, and where to see them. */
export function TriggerDevBanner({ dashboardUrl }: { dashboardUrl: string }) {
  return (
    <p className="mt-4 rounded-md border border-indigo-200 bg-indigo-50 p-3 text-sm text-indigo-900" role="note">
      Tasks run on Trigger.dev (<code>TRIGGER_SECRET_KEY</code> is set): their runs, queues and logs are in the{" "}
      <a href={dashboardUrl} className="font-medium underline" target="_blank" rel="noreferrer">
        Trigger.dev dashboard
      </a>
      . Here you see each webhook delivery as a <code>webhook-delivery</code> run, with a link to the Trigger.dev run
      that sends it.
    </p>
  );
}
