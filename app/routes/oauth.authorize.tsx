import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, useLoaderData } from "@remix-run/react";
import { CsrfInput } from "~/components/csrf-input";
import { prisma } from "~/db.server";
import { OAUTH_SCOPES, isSupportedScope } from "~/lib/oauth-scopes";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import {
  answerAuthorizationRequest,
  checkAuthorizationRequest,
  hasConsent,
} from "~/services/oauth/authorization-server.server";

export const meta: MetaFunction = () => [{ title: "Authorize an application · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const url = new URL(request.url);
  const check = await checkAuthorizationRequest(url);
  if (!check.ok && check.kind === "redirect") throw redirect(check.location);
  if (!check.ok) return data({ error: check.error, consent: null }, { status: 400 });
  // The same app asking again for what the user already approved does not ask again.
  if (
    await hasConsent(prisma, { clientDbId: check.request.client.dbId, userId: user.id, scopes: check.request.scopes })
  ) {
    throw redirect(await answerAuthorizationRequest({ userId: user.id, approved: true, check: check.request }));
  }
  return {
    error: null,
    consent: {
      appName: check.request.client.name,
      userEmail: user.email,
      redirectHost: new URL(check.request.redirectUri).host,
      scopes: check.request.scopes.filter(isSupportedScope).map((scope) => ({ scope, meaning: OAUTH_SCOPES[scope] })),
    },
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const url = new URL(request.url);
  const check = await checkAuthorizationRequest(url);
  if (!check.ok && check.kind === "redirect") return redirect(check.location);
  if (!check.ok) return data({ error: check.error, consent: null }, { status: 400 });
  const approved = formData.get("decision") === "approve";
  return redirect(await answerAuthorizationRequest({ userId: user.id, approved, check: check.request }));
}

export default function AuthorizePage() {
  const { error, consent } = useLoaderData<typeof loader>();
  return (
    <main className="flex min-h-full items-center justify-center px-6 py-12">
      <div className="w-full max-w-md rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200">
        {error || !consent ? (
          <>
            <h1 className="text-xl font-semibold">This authorization request cannot continue</h1>
            <p role="alert" className="mt-3 text-red-700">
              {error}
            </p>
          </>
        ) : (
          <>
            <h1 className="text-xl font-semibold">
              <span data-testid="consent-app-name">{consent.appName}</span> wants to access your Echo account
            </h1>
            <p className="mt-1 text-sm text-slate-600">Signed in as {consent.userEmail}.</p>
            <ul className="mt-4 space-y-2" aria-label="Requested access">
              {consent.scopes.map(({ scope, meaning }) => (
                <li key={scope} className="flex gap-2 text-sm">
                  <span aria-hidden className="text-emerald-600">
                    ✓
                  </span>
                  <span>
                    {meaning} <code className="text-xs text-slate-500">({scope})</code>
                  </span>
                </li>
              ))}
            </ul>
            <p className="mt-4 text-xs text-slate-500">
              You will be sent back to {consent.redirectHost}. You can revoke access at any time in Connected apps.
            </p>
            <Form method="post" className="mt-6 flex gap-3">
              <CsrfInput />
              <button
                name="decision"
                value="approve"
                type="submit"
                className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500"
              >
                Allow
              </button>
              <button
                name="decision"
                value="deny"
                type="submit"
                className="rounded-md border border-slate-300 px-4 py-2 font-medium hover:bg-slate-50"
              >
                Deny
              </button>
            </Form>
          </>
        )}
      </div>
    </main>
  );
}
