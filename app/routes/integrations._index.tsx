import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { formatDateTime } from "~/lib/format";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { IntentButton } from "~/components/intent-button";
import { prisma } from "~/db.server";
import { AUTH_TYPE_LABEL } from "~/lib/integration-labels";
import { env } from "~/env.server";
import { parseWebhookUrl } from "~/lib/webhooks/outbound-url";
import { presentIntegrations } from "~/presenters/IntegrationsPresenter.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { disconnectIntegration } from "~/services/integrations/disconnect-integration.server";
import { connectIntegration } from "~/services/integrations/run-integration.server";

export const meta: MetaFunction = () => [{ title: "Integrations · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { user, view: await presentIntegrations(prisma, user.id) };
}

const ActionSchema = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("connect-api-key"),
    slug: z.string().min(1).max(64),
    apiKey: z.string().trim().min(1, "Paste the key").max(512, "That key is too long"),
  }),
  z.object({
    intent: z.literal("connect-mcp"),
    slug: z.literal("mcp"),
    url: z.string().trim().min(1, "Enter the MCP server's URL").max(2048),
    token: z
      .string()
      .trim()
      .max(4096, "That token is too long")
      .transform((value) => value || undefined),
  }),
  z.object({ intent: z.literal("disconnect"), accountId: z.string().min(1).max(100) }),
]);

type ActionResult = { slug?: string; fieldErrors?: Record<string, string>; formError?: string; connected?: string };

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const parsed = ActionSchema.safeParse(Object.fromEntries(formData));
  const slug = String(formData.get("slug") ?? "");
  if (!parsed.success) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of parsed.error.issues) fieldErrors[String(issue.path[0] ?? "form")] ??= issue.message;
    return data<ActionResult>({ slug, fieldErrors }, { status: 400 });
  }
  const input = parsed.data;

  if (input.intent === "disconnect") {
    const result = await disconnectIntegration({ userId: user.id, integrationAccountId: input.accountId });
    if (!result.ok) return data<ActionResult>({ formError: result.error }, { status: result.status });
    return data<ActionResult>({});
  }

  if (input.intent === "connect-mcp") {
    const url = parseWebhookUrl(input.url, { allowlist: env.OUTBOUND_ALLOWED_HOSTS });
    if (!url.ok) return data<ActionResult>({ slug, fieldErrors: { url: url.error } }, { status: 400 });
    const result = await connectIntegration({
      userId: user.id,
      slug: "mcp",
      input: { kind: "mcp", url: url.url.href, token: input.token },
    });
    if (!result.ok) {
      return data<ActionResult>(
        { slug, ...(result.field ? { fieldErrors: { [result.field]: result.error } } : { formError: result.error }) },
        { status: result.status },
      );
    }
    return data<ActionResult>({ slug, connected: result.displayName });
  }

  const result = await connectIntegration({
    userId: user.id,
    slug: input.slug,
    input: { kind: "api_key", apiKey: input.apiKey },
  });
  if (!result.ok) {
    return data<ActionResult>(
      { slug, ...(result.field ? { fieldErrors: { [result.field]: result.error } } : { formError: result.error }) },
      { status: result.status },
    );
  }
  return data<ActionResult>({ slug, connected: result.displayName });
}

function FieldError({ message, id }: { message?: string; id: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="mt-1 text-sm text-red-600">
      {message}
    </p>
  );
}

export default function Integrations() {
  const { user, view } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const busy = navigation.state === "submitting";
  const errorsFor = (slug: string) => (actionData?.slug === slug ? (actionData.fieldErrors ?? {}) : {});
  const connectedName = actionData?.connected ?? searchParams.get("connected");

  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">Integrations</h1>
      <p className="mt-1 text-slate-600">
        Connect the tools you use. Apps you granted the <code>integration</code> scope are notified when you do.
      </p>
      {connectedName ? (
        <p role="status" className="mt-4 rounded-md bg-emerald-50 p-3 text-sm text-emerald-800">
          Connected {connectedName}.
        </p>
      ) : null}
      {actionData?.formError ? (
        <p role="alert" className="mt-4 rounded-md bg-red-50 p-3 text-sm text-red-700">
          {actionData.formError}
        </p>
      ) : null}

      <section className="mt-8" aria-labelledby="connected-heading">
        <h2 id="connected-heading" className="text-lg font-semibold">
          Connected
        </h2>
        {view.accounts.length === 0 ? (
          <p className="mt-2 text-slate-600">Nothing connected yet.</p>
        ) : (
          <ul className="mt-3 divide-y divide-slate-200 rounded-lg bg-white ring-1 ring-slate-200">
            {view.accounts.map((account) => (
              <li
                key={account.id}
                className="flex items-center justify-between gap-4 p-4"
                data-testid="connected-account"
              >
                <div className="flex items-center gap-3">
                  <img src={account.definition.icon} alt="" className="h-8 w-8" />
                  <div>
                    <p className="font-medium">
                      {account.definition.name} · {account.displayName}
                    </p>
                    <p className="text-xs text-slate-500">
                      {account.status.toLowerCase()} · connected {formatDateTime(account.connectedAt)}
                    </p>
                  </div>
                </div>
                <IntentButton intent="disconnect" fields={{ accountId: account.id }}>
                  Disconnect
                </IntentButton>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="mt-10" aria-labelledby="catalog-heading">
        <h2 id="catalog-heading" className="text-lg font-semibold">
          Catalog
        </h2>
        <ul className="mt-3 grid grid-cols-1 gap-4 md:grid-cols-2">
          {view.catalog.map((integration) => {
            const errors = errorsFor(integration.slug);
            return (
              <li
                key={integration.slug}
                className="rounded-lg bg-white p-4 ring-1 ring-slate-200"
                data-testid={`catalog-${integration.slug}`}
              >
                <div className="flex gap-3">
                  <img src={integration.icon} alt="" className="h-10 w-10" />
                  <div>
                    <p className="font-medium">{integration.name}</p>
                    <p className="text-xs uppercase tracking-wide text-slate-500">
                      {AUTH_TYPE_LABEL[integration.authType]}
                    </p>
                    <p className="mt-1 text-sm text-slate-600">{integration.description}</p>
                  </div>
                </div>
                {integration.authType === "OAUTH2" ? (
                  integration.missingSettings.length > 0 ? (
                    <p className="mt-3 text-sm text-slate-500">
                      Not configured on this Echo: set {integration.missingSettings.join(" and ")}.
                    </p>
                  ) : (
                    <Form method="post" action={`/integrations/${integration.slug}/authorize`} className="mt-3">
                      <CsrfInput />
                      <button
                        type="submit"
                        className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                      >
                        Connect {integration.name}
                      </button>
                    </Form>
                  )
                ) : null}
                {integration.authType === "API_KEY" ? (
                  <Form method="post" className="mt-3 space-y-2" noValidate>
                    <CsrfInput />
                    <input type="hidden" name="intent" value="connect-api-key" />
                    <input type="hidden" name="slug" value={integration.slug} />
                    <label className="block text-sm font-medium text-slate-700" htmlFor={`${integration.slug}-key`}>
                      {integration.keyLabel}
                    </label>
                    <input
                      id={`${integration.slug}-key`}
                      name="apiKey"
                      type="password"
                      autoComplete="off"
                      aria-invalid={errors.apiKey ? true : undefined}
                      aria-describedby={errors.apiKey ? `${integration.slug}-key-error` : undefined}
                      className="block w-full rounded-md border border-slate-300 px-3 py-2"
                    />
                    {integration.keyHelp ? <p className="text-xs text-slate-500">{integration.keyHelp}</p> : null}
                    <FieldError id={`${integration.slug}-key-error`} message={errors.apiKey} />
                    <button
                      type="submit"
                      disabled={busy}
                      className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
                    >
                      Connect {integration.name}
                    </button>
                  </Form>
                ) : null}
                {integration.authType === "MCP" ? (
                  <Form method="post" className="mt-3 space-y-2" noValidate>
                    <CsrfInput />
                    <input type="hidden" name="intent" value="connect-mcp" />
                    <input type="hidden" name="slug" value={integration.slug} />
                    <label className="block text-sm font-medium text-slate-700" htmlFor="mcp-url">
                      Server URL
                    </label>
                    <input
                      id="mcp-url"
                      name="url"
                      type="url"
                      placeholder="https://mcp.example.com/mcp"
                      className="block w-full rounded-md border border-slate-300 px-3 py-2"
                      aria-invalid={errors.url ? true : undefined}
                      aria-describedby={errors.url ? "mcp-url-error" : undefined}
                    />
                    <FieldError id="mcp-url-error" message={errors.url} />
                    <label className="block text-sm font-medium text-slate-700" htmlFor="mcp-token">
                      Bearer token (optional)
                    </label>
                    <input
                      id="mcp-token"
                      name="token"
                      type="password"
                      autoComplete="off"
                      className="block w-full rounded-md border border-slate-300 px-3 py-2"
                      aria-invalid={errors.token ? true : undefined}
                      aria-describedby={errors.token ? "mcp-token-error" : undefined}
                    />
                    <FieldError id="mcp-token-error" message={errors.token} />
                    <button
                      type="submit"
                      disabled={busy}
                      className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
                    >
                      Connect MCP server
                    </button>
                  </Form>
                ) : null}
              </li>
            );
          })}
        </ul>
      </section>
    </AppShell>
  );
}
