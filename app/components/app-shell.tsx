import { Form, Link, NavLink } from "@remix-run/react";
import { CsrfInput } from "./csrf-input";

const NAV: { to: string; label: string; end?: boolean }[] = [
  { to: "/dashboard", label: "Dashboard" },
  { to: "/integrations", label: "Integrations" },
  // The delivery log; its own deliveries pages stay under it, the endpoints have their own entry.
  { to: "/webhooks", label: "Webhooks", end: true },
  { to: "/webhooks/endpoints", label: "Endpoints" },
  { to: "/event-types", label: "Event types" },
  { to: "/developers/apps", label: "OAuth apps" },
  { to: "/settings/connected-apps", label: "Connected apps" },
  { to: "/settings/api-keys", label: "API keys" },
];

/** Only operators see these (their routes answer 404 to anyone else). */
const OPERATOR_NAV: { to: string; label: string; end?: boolean }[] = [{ to: "/runs", label: "Runs" }];

export function AppShell({
  user,
  children,
}: {
  user: { name: string; email: string; isOperator?: boolean };
  children: React.ReactNode;
}) {
  return (
    <div className="min-h-full">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-6 px-6 py-3">
          <div className="flex min-w-0 items-center gap-8">
            <Link to="/dashboard" className="flex shrink-0 items-center gap-2 font-semibold text-indigo-700">
              <img src="/favicon.svg" alt="" className="h-6 w-6" /> Echo
            </Link>
            {/* Items never break inside; the row wraps between them when the window is narrow. */}
            <nav className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
              {(user.isOperator ? [...NAV, ...OPERATOR_NAV] : NAV).map((item) => (
                <NavLink
                  key={item.to}
                  to={item.to}
                  end={item.end}
                  className={({ isActive }) =>
                    `whitespace-nowrap ${isActive ? "font-medium text-slate-900" : "text-slate-500 hover:text-slate-900"}`
                  }
                >
                  {item.label}
                </NavLink>
              ))}
            </nav>
          </div>
          <div className="flex shrink-0 items-center gap-4 text-sm">
            <span className="max-w-[14rem] truncate text-slate-600" data-testid="current-user" title={user.email}>
              {user.email}
            </span>
            <Form method="post" action="/logout">
              <CsrfInput />
              <button
                type="submit"
                className="whitespace-nowrap rounded-md border border-slate-300 px-3 py-1.5 hover:bg-slate-50"
              >
                Log out
              </button>
            </Form>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
    </div>
  );
}
