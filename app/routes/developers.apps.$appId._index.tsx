import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { IntentButton } from "~/components/intent-button";
import { OAuthAppFields, appFormValues } from "~/components/oauth-app-form";
import { SecretOnce } from "~/components/secret-once";
import { prisma } from "~/db.server";
import { fieldErrorsFrom } from "~/lib/form";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireOwnedOAuthApp } from "~/services/oauth/require-owned-app.server";
import {
  OAuthAppUpdateSchema,
  deleteOAuthApp,
  rotateClientSecret,
  updateOAuthApp,
} from "~/services/oauth/oauth-apps.server";

export const meta: MetaFunction = () => [{ title: "OAuth app · Echo" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { user, app } = await requireOwnedOAuthApp(request, params);
  return {
    user,
    app: {
      id: app.id,
      name: app.name,
      clientId: app.clientId,
      clientType: app.clientType,
      redirectUris: app.redirectUris,
      allowedScopes: app.allowedScopes,
    },
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { user, app } = await requireOwnedOAuthApp(request, params);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const intent = formData.get("intent");
  if (intent === "rotate-secret") {
    return { fieldErrors: {}, secret: await rotateClientSecret(prisma, user.id, app.id), saved: false };
  }
  if (intent === "delete") {
    await deleteOAuthApp(prisma, user.id, app.id);
    return redirect("/developers/apps");
  }
  const parsed = OAuthAppUpdateSchema.safeParse(appFormValues(formData));
  if (!parsed.success)
    return data({ fieldErrors: fieldErrorsFrom(parsed.error), secret: null, saved: false }, { status: 400 });
  await updateOAuthApp(prisma, user.id, app.id, parsed.data);
  return { fieldErrors: {}, secret: null, saved: true };
}

export default function OAuthAppPage() {
  const { user, app } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <AppShell user={user}>
      <Link to="/developers/apps" className="text-sm text-indigo-700 underline">
        ← OAuth apps
      </Link>
      <h1 className="mt-2 text-2xl font-semibold">{app.name}</h1>
      <nav className="mt-3 flex gap-4 text-sm">
        <span className="font-medium">Settings</span>
        <Link to={`/developers/apps/${app.id}/webhook`} className="text-indigo-700 underline">
          Webhook settings
        </Link>
      </nav>
      <dl className="mt-4 text-sm">
        <dt className="text-slate-500">Client id</dt>
        <dd className="font-mono" data-testid="client-id">
          {app.clientId}
        </dd>
        <dt className="mt-2 text-slate-500">Client type</dt>
        <dd>{app.clientType.toLowerCase()}</dd>
      </dl>
      {actionData?.secret ? (
        <div className="mt-4">
          <SecretOnce label="New client secret" value={actionData.secret} />
        </div>
      ) : null}
      {actionData?.saved ? (
        <p role="status" className="mt-4 text-sm text-emerald-700">
          Saved.
        </p>
      ) : null}
      <Form method="post" className="mt-6 max-w-xl space-y-6" noValidate>
        <CsrfInput />
        <input type="hidden" name="intent" value="update" />
        <OAuthAppFields values={app} errors={actionData?.fieldErrors ?? {}} withClientType={false} />
        <button type="submit" className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
          Save
        </button>
      </Form>
      <div className="mt-10 flex gap-3 border-t border-slate-200 pt-6">
        <IntentButton intent="rotate-secret">
          {app.clientType === "CONFIDENTIAL" ? "Rotate client secret" : "Create a client secret"}
        </IntentButton>
        <IntentButton
          intent="delete"
          variant="danger"
          confirmation="Delete this app? Its users' grants and tokens end now."
        >
          Delete app
        </IntentButton>
      </div>
    </AppShell>
  );
}
