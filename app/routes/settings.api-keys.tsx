import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { IntentButton } from "~/components/intent-button";
import { SecretOnce } from "~/components/secret-once";
import { prisma } from "~/db.server";
import { formatDateTime } from "~/lib/format";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { ApiKeyInputSchema, createApiKey, listApiKeys, revokeApiKey } from "~/services/api/api-keys.server";

export const meta: MetaFunction = () => [{ title: "API keys · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { user, keys: await listApiKeys(prisma, user.id) };
}

type ActionResult = { key?: string; error?: string };

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  if (formData.get("intent") === "revoke") {
    const parsed = z.object({ id: z.string().min(1).max(100) }).safeParse(Object.fromEntries(formData));
    if (!parsed.success || !(await revokeApiKey(prisma, user.id, parsed.data.id)))
      return data<ActionResult>({ error: "No such API key." }, { status: 404 });
    return data<ActionResult>({});
  }
  const parsed = ApiKeyInputSchema.safeParse({ name: formData.get("name") });
  if (!parsed.success) return data<ActionResult>({ error: parsed.error.issues[0]?.message }, { status: 400 });
  const created = await createApiKey(prisma, user.id, parsed.data);
  if (!created.ok) return data<ActionResult>({ error: created.error }, { status: 409 });
  return data<ActionResult>({ key: created.key });
}

export default function ApiKeys() {
  const { user, keys } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">API keys</h1>
      <p className="mt-1 text-slate-600">
        Personal keys for Echo&apos;s JSON API (<code>Authorization: Bearer echo_sk_…</code>). They act as you.
      </p>
      {actionData?.key ? (
        <div className="mt-4">
          <SecretOnce label="API key" value={actionData.key} />
        </div>
      ) : null}
      <Form method="post" className="mt-6 flex items-end gap-3" noValidate>
        <CsrfInput />
        <label className="block text-sm font-medium text-slate-700">
          Name
          <input
            name="name"
            className="mt-1 block w-64 rounded-md border border-slate-300 px-3 py-2"
            aria-invalid={actionData?.error ? true : undefined}
          />
        </label>
        <button type="submit" className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
          Create key
        </button>
      </Form>
      {actionData?.error ? (
        <p role="alert" className="mt-2 text-sm text-red-600">
          {actionData.error}
        </p>
      ) : null}
      <ul className="mt-6 divide-y divide-slate-200 rounded-lg bg-white ring-1 ring-slate-200">
        {keys.map((key) => (
          <li key={key.id} className="flex items-center justify-between p-4" data-testid="api-key">
            <div>
              <p className="font-medium">{key.name}</p>
              <p className="font-mono text-xs text-slate-500">
                {key.prefix}… · created {formatDateTime(key.createdAt)} ·{" "}
                {key.lastUsedAt ? `last used ${formatDateTime(key.lastUsedAt)}` : "never used"}
              </p>
            </div>
            <IntentButton intent="revoke" fields={{ id: key.id }} variant="danger">
              Revoke
            </IntentButton>
          </li>
        ))}
      </ul>
    </AppShell>
  );
}
