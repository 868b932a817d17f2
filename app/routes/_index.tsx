import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { getSessionUser } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "Echo — webhooks your users' apps can trust" }];

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getSessionUser(request)) throw redirect("/dashboard");
  return null;
}

export default function Index() {
  return (
    <main className="mx-auto flex min-h-full max-w-3xl flex-col justify-center px-6 py-16">
      <div className="flex items-center gap-3">
        <img src="/favicon.svg" alt="" className="h-10 w-10" />
        <h1 className="text-4xl font-bold tracking-tight">Echo</h1>
      </div>
      <p className="mt-6 text-lg text-slate-600">
        Echo tells OAuth apps, reliably and securely, when things happen to the users who granted them access: signed
        webhooks, delivered durably with retries, every attempt visible.
      </p>
      <div className="mt-8 flex gap-3">
        <Link to="/signup" className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
          Create an account
        </Link>
        <Link to="/login" className="rounded-md border border-slate-300 px-4 py-2 font-medium hover:bg-white">
          Log in
        </Link>
      </div>
    </main>
  );
}
