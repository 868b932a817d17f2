import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { useNonce } from "~/components/nonce";
import stylesheet from "~/tailwind.css";
import { getCsrfToken } from "~/services/auth/csrf.server";
import { getSessionUser } from "~/services/auth/session.server";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export async function loader({ request }: LoaderFunctionArgs) {
  const [csrf, user] = await Promise.all([getCsrfToken(request), getSessionUser(request)]);
  return data(
    { csrfToken: csrf.token, user: user ? { name: user.name, email: user.email } : null },
    { headers: csrf.setCookie ? { "Set-Cookie": csrf.setCookie } : {} },
  );
}

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en" className="h-full bg-slate-50">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full text-slate-900 antialiased">
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  const error = useRouteError();
  const title = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : "Something went wrong";
  const message = isRouteErrorResponse(error)
    ? typeof error.data === "string"
      ? error.data
      : "The request could not be completed."
    : "An unexpected error occurred. It has been logged; please try again.";
  return (
    <main className="mx-auto max-w-xl p-10">
      <h1 className="text-2xl font-semibold">{title}</h1>
      <p className="mt-4 text-slate-600">{message}</p>
      <a className="mt-6 inline-block text-indigo-600 underline" href="/">
        Back to Echo
      </a>
    </main>
  );
}
