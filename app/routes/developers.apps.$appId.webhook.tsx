import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { IntentButton } from "~/components/intent-button";
import { SecretOnce } from "~/components/secret-once";
import { prisma } from "~/db.server";
import { fieldErrorsFrom } from "~/lib/form";
import { formatDateTime } from "~/lib/format";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireOwnedOAuthApp } from "~/services/oauth/require-owned-app.server";
import {
  WebhookSettingsSchema,
  clearWebhookSecret,
  revealWebhookSecret,
  rotateWebhookSecret,
  saveWebhookSettings,
  webhookUrlRequiresHttps,
} from "~/services/oauth/oauth-apps.server";

export const meta: MetaFunction = () => [{ title: "Webhook settings · Echo" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { user, app } = await requireOwnedOAuthApp(request, params);
  return {
    user,
    requireHttps: webhookUrlRequiresHttps(),
    app: {
      id: app.id,
      name: app.name,
      webhookUrl: app.webhookUrl,
      hasSecret: Boolean(app.webhookSecret),
      previousSecretExpiresAt: app.previousSecretExpiresAt,
      maxRetries: app.webhookMaxRetries,
      timeoutSeconds: Math.round(app.webhookTimeoutMs / 1000),
      disabledAt: app.webhookDisabledAt,
      disabledReason: app.webhookDisabledReason,
    },
  };
}

type ActionResult = { fieldErrors: Record<string, string>; secret: string | null; saved: boolean; message?: string };

export async function action({ request, params }: ActionFunctionArgs) {
  const { user, app } = await requireOwnedOAuthApp(request, params);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  switch (formData.get("intent")) {
    case "rotate-secret":
      return data<ActionResult>({
        fieldErrors: {},
        secret: await rotateWebhookSecret(prisma, user.id, app.id),
        saved: false,
      });
    case "reveal-secret":
      return data<ActionResult>({
        fieldErrors: {},
        secret: await revealWebhookSecret(prisma, user.id, app.id),
        saved: false,
      });
    case "clear-secret":
      await clearWebhookSecret(prisma, user.id, app.id);
      return data<ActionResult>({
        fieldErrors: {},
        secret: null,
        saved: true,
        message: "Secret removed: webhooks are no longer signed.",
      });
    default: {
      const parsed = WebhookSettingsSchema.safeParse(Object.fromEntries(formData));
      if (!parsed.success)
        return data<ActionResult>(
          { fieldErrors: fieldErrorsFrom(parsed.error), secret: null, saved: false },
          { status: 400 },
        );
      const result = await saveWebhookSettings(prisma, user.id, app.id, parsed.data);
      if (!result.ok)
        return data<ActionResult>({ fieldErrors: result.fieldErrors, secret: null, saved: false }, { status: 400 });
      return data<ActionResult>({ fieldErrors: {}, secret: null, saved: true, message: "Webhook settings saved." });
    }
  }
}

export default function WebhookSettings() {
  const { user, app, requireHttps } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errors = actionData?.fieldErrors ?? {};
  return (
    <AppShell user={user}>
      <Link to={`/developers/apps/${app.id}`} className="text-sm text-indigo-700 underline">
        ← {app.name}
      </Link>
      <h1 className="mt-2 text-2xl font-semibold">Webhook settings</h1>
      <p className="mt-1 text-slate-600">
        Echo POSTs <code>integration.connected</code> and <code>integration.disconnected</code> here when users who
        granted this app the <code>integration</code> scope connect or disconnect an integration.
      </p>
      {app.disabledAt ? (
        <p role="alert" className="mt-4 rounded-md bg-red-50 p-3 text-sm text-red-800">
          Disabled since {formatDateTime(app.disabledAt)}: {app.disabledReason} Save the settings to turn it back on.
        </p>
      ) : null}
      {actionData?.message ? (
        <p role="status" className="mt-4 text-sm text-emerald-700">
          {actionData.message}
        </p>
      ) : null}
      <Form method="post" className="mt-6 max-w-xl space-y-4" noValidate>
        <CsrfInput />
        <input type="hidden" name="intent" value="save" />
        <div>
          <label htmlFor="webhook-url" className="block text-sm font-medium text-slate-700">
            Webhook URL
          </label>
          <input
            id="webhook-url"
            name="webhookUrl"
            defaultValue={app.webhookUrl ?? ""}
            placeholder="https://example.com/webhooks/echo"
            className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm"
            aria-invalid={errors.webhookUrl ? true : undefined}
          />
          <p className="mt-1 text-xs text-slate-500">
            {requireHttps ? "https only." : "http or https."} Leave empty to stop webhooks.
          </p>
          {errors.webhookUrl ? (
            <p role="alert" className="mt-1 text-sm text-red-600">
              {errors.webhookUrl}
            </p>
          ) : null}
        </div>
        <div className="flex gap-4">
          <label className="block text-sm font-medium text-slate-700">
            Retries (0–10)
            <input
              name="maxRetries"
              type="number"
              min={0}
              max={10}
              defaultValue={app.maxRetries}
              className="mt-1 block w-24 rounded-md border border-slate-300 px-3 py-2"
            />
            {errors.maxRetries ? (
              <span role="alert" className="mt-1 block text-sm text-red-600">
                {errors.maxRetries}
              </span>
            ) : null}
          </label>
          <label className="block text-sm font-medium text-slate-700">
            Timeout (5–300 s)
            <input
              name="timeoutSeconds"
              type="number"
              min={5}
              max={300}
              defaultValue={app.timeoutSeconds}
              className="mt-1 block w-24 rounded-md border border-slate-300 px-3 py-2"
            />
            {errors.timeoutSeconds ? (
              <span role="alert" className="mt-1 block text-sm text-red-600">
                {errors.timeoutSeconds}
              </span>
            ) : null}
          </label>
        </div>
        <button type="submit" className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
          Save webhook settings
        </button>
      </Form>

      <section className="mt-10 max-w-xl border-t border-slate-200 pt-6" aria-labelledby="secret-heading">
        <h2 id="secret-heading" className="text-lg font-semibold">
          Signing secret
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          {app.hasSecret
            ? "Webhooks are signed (Standard Webhooks, plus X-Webhook-Signature and X-Webhook-Secret)."
            : "No secret: webhooks are sent unsigned."}
          {app.previousSecretExpiresAt && new Date(app.previousSecretExpiresAt) > new Date()
            ? ` The previous secret also signs until ${formatDateTime(app.previousSecretExpiresAt)}.`
            : ""}
        </p>
        {actionData?.secret ? (
          <div className="mt-3">
            <SecretOnce label="Webhook secret" value={actionData.secret} />
          </div>
        ) : null}
        <div className="mt-4 flex gap-3">
          <IntentButton intent="rotate-secret">{app.hasSecret ? "Rotate secret" : "Generate secret"}</IntentButton>
          {app.hasSecret ? (
            <>
              <IntentButton intent="reveal-secret">Reveal secret</IntentButton>
              <IntentButton intent="clear-secret" variant="danger">
                Remove secret
              </IntentButton>
            </>
          ) : null}
        </div>
      </section>
    </AppShell>
  );
}
