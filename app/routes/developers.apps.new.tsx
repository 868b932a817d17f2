import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { OAuthAppFields, appFormValues } from "~/components/oauth-app-form";
import { SecretOnce } from "~/components/secret-once";
import { prisma } from "~/db.server";
import { fieldErrorsFrom } from "~/lib/form";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { OAuthAppInputSchema, createOAuthApp } from "~/services/oauth/oauth-apps.server";

export const meta: MetaFunction = () => [{ title: "New OAuth app · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  return { user: await requireUser(request) };
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const values = appFormValues(formData);
  const parsed = OAuthAppInputSchema.safeParse(values);
  if (!parsed.success)
    return data({ values, fieldErrors: fieldErrorsFrom(parsed.error), created: null }, { status: 400 });
  const created = await createOAuthApp(prisma, user.id, parsed.data);
  return { values, fieldErrors: {}, created };
}

export default function NewOAuthApp() {
  const { user } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const created = actionData?.created;
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">New OAuth app</h1>
      {created ? (
        <div className="mt-6 space-y-4">
          <p>
            Created. Client id: <code data-testid="client-id">{created.clientId}</code>
          </p>
          {created.clientSecret ? (
            <SecretOnce label="Client secret" value={created.clientSecret} />
          ) : (
            <p>Public app: no client secret; use PKCE.</p>
          )}
          <Link to={`/developers/apps/${created.id}`} className="inline-block text-indigo-700 underline">
            Go to the app
          </Link>
        </div>
      ) : (
        <Form method="post" className="mt-6 max-w-xl space-y-6" noValidate>
          <CsrfInput />
          <OAuthAppFields values={actionData?.values} errors={actionData?.fieldErrors ?? {}} withClientType />
          <button
            type="submit"
            className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500"
          >
            Create app
          </button>
        </Form>
      )}
    </AppShell>
  );
}
