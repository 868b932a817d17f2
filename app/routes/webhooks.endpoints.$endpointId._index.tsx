import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { EndpointStateChip } from "~/components/endpoint-state-chip";
import { IntentButton } from "~/components/intent-button";
import { SecretOnce } from "~/components/secret-once";
import { DeliveriesTable } from "~/components/deliveries-table";
import { prisma } from "~/db.server";
import { fieldErrorsFrom } from "~/lib/form";
import { formatDateTime } from "~/lib/format";
import { presentWebhookEndpoint } from "~/presenters/WebhookEndpointPresenter.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";
import {
  deleteEndpoint,
  pauseEndpoint,
  resumeEndpoint,
  retryFailedDeliveries,
  revealEndpointSecret,
  rotateEndpointSecret,
} from "~/services/webhooks/endpoints.server";
import { takeSecretFlash } from "~/services/webhooks/secret-flash.server";
import type { action as testEventAction } from "./resources.webhooks.endpoints.$endpointId.test-event";
import { endpointIdParam } from "~/services/webhooks/endpoint-params.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.endpoint.name ?? "Endpoint"} · Echo` },
];

/** A `datetime-local` value, read as UTC like every time Echo shows. */
const RetryFailedFormSchema = z.object({
  since: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, "Pick a date and time (UTC)")
    .transform((value) => new Date(`${value.length === 16 ? `${value}:00` : value}Z`))
    .refine((date) => !Number.isNaN(date.getTime()), "Pick a date and time (UTC)"),
});

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const endpointId = endpointIdParam(params);
  const endpoint = await presentWebhookEndpoint(prisma, { userId: user.id }, endpointId);
  if (!endpoint) throw new Response("No such endpoint.", { status: 404 });
  const flash = await takeSecretFlash(request, endpoint.id);
  const newSecret = flash.show ? await revealEndpointSecret({ userId: user.id }, endpoint.id) : null;
  return data(
    {
      user,
      endpoint,
      newSecret,
      // Yesterday at this minute, in the form's UTC `datetime-local` format.
      retrySinceDefault: new Date(Date.now() - 24 * 3_600_000).toISOString().slice(0, 16),
    },
    { headers: { "Cache-Control": "no-store", ...(flash.setCookie ? { "Set-Cookie": flash.setCookie } : {}) } },
  );
}

type ActionResult = {
  secret?: { label: string; value: string; note?: string };
  message?: string;
  fieldErrors: Record<string, string>;
};

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const endpointId = endpointIdParam(params);
  const actor = { userId: user.id };
  const ok = (result: Omit<ActionResult, "fieldErrors">) => data<ActionResult>({ fieldErrors: {}, ...result });

  switch (formData.get("intent")) {
    case "reveal-secret": {
      const secret = await attemptService(() => revealEndpointSecret(actor, endpointId));
      if (!secret.ok) return data<ActionResult>({ fieldErrors: { form: secret.message } }, { status: secret.status });
      return ok({ secret: { label: "Signing secret", value: secret.value } });
    }
    case "rotate-secret": {
      const rotated = await attemptService(() => rotateEndpointSecret(actor, endpointId, undefined));
      if (!rotated.ok)
        return data<ActionResult>({ fieldErrors: { form: rotated.message } }, { status: rotated.status });
      return ok({
        secret: {
          label: "New signing secret",
          value: rotated.value.secret,
          note: `The old secret keeps signing too, for 24 hours (until ${formatDateTime(rotated.value.previousSecretExpiresAt)}), so you can update your receiver without missing a webhook.`,
        },
      });
    }
    case "pause": {
      const paused = await attemptService(() => pauseEndpoint(actor, endpointId));
      if (!paused.ok) return data<ActionResult>({ fieldErrors: { form: paused.message } }, { status: paused.status });
      return ok({ message: "Paused: new events wait in the queue until you resume." });
    }
    case "resume": {
      const resumed = await attemptService(() => resumeEndpoint(actor, endpointId));
      if (!resumed.ok)
        return data<ActionResult>({ fieldErrors: { form: resumed.message } }, { status: resumed.status });
      return ok({ message: "Resumed: waiting deliveries are on their way." });
    }
    case "delete": {
      const deleted = await attemptService(() => deleteEndpoint(actor, endpointId));
      if (!deleted.ok)
        return data<ActionResult>({ fieldErrors: { form: deleted.message } }, { status: deleted.status });
      return redirect("/webhooks/endpoints");
    }
    case "retry-failed": {
      const parsed = RetryFailedFormSchema.safeParse({ since: formData.get("since") ?? "" });
      if (!parsed.success) return data<ActionResult>({ fieldErrors: fieldErrorsFrom(parsed.error) }, { status: 400 });
      const retried = await attemptService(() => retryFailedDeliveries(actor, endpointId, parsed.data.since));
      if (!retried.ok) {
        return data<ActionResult>(
          { fieldErrors: { [retried.field ?? "form"]: retried.message } },
          { status: retried.status },
        );
      }
      const { queued } = retried.value;
      return ok({
        message:
          queued === 0
            ? "No failed deliveries since then."
            : `Queued ${queued} failed ${queued === 1 ? "delivery" : "deliveries"} for one more attempt.`,
      });
    }
    default:
      return data<ActionResult>({ fieldErrors: { form: "Unknown action." } }, { status: 400 });
  }
}

const OUTCOMES: Record<string, string> = {
  delivered: "Delivered",
  retry: "Failed; Echo will retry",
  failed: "Failed; no more retries",
  paused: "Not sent: the endpoint is paused",
  deferred: "Queued: over the per-minute limit",
  skipped: "Not sent",
};

function TestEventPanel({ endpointId }: { endpointId: string }) {
  const fetcher = useFetcher<typeof testEventAction>();
  const result = fetcher.data;
  return (
    <section className="mt-8 rounded-lg bg-white p-4 ring-1 ring-slate-200" aria-labelledby="test-heading">
      <h2 id="test-heading" className="text-lg font-semibold">
        Send a test event
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Sends a signed <code>webhook.test</code> event now and shows what your receiver answered.
      </p>
      <fetcher.Form method="post" action={`/resources/webhooks/endpoints/${endpointId}/test-event`} className="mt-3">
        <CsrfInput />
        <button
          type="submit"
          disabled={fetcher.state !== "idle"}
          className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
        >
          {fetcher.state === "idle" ? "Send test event" : "Sending…"}
        </button>
      </fetcher.Form>
      {result && "error" in result ? (
        <p role="alert" className="mt-3 text-sm text-red-700">
          {result.error}
        </p>
      ) : null}
      {result && "outcome" in result ? (
        <div className="mt-4 text-sm" data-testid="test-result" role="status">
          <dl className="grid grid-cols-2 gap-x-8 gap-y-2 sm:grid-cols-4">
            <div>
              <dt className="text-slate-500">Outcome</dt>
              <dd className="font-medium" data-testid="test-outcome">
                {OUTCOMES[result.outcome] ?? result.outcome}
              </dd>
            </div>
            <div>
              <dt className="text-slate-500">HTTP status</dt>
              <dd>{result.attempt?.responseStatus ?? "no response"}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Duration</dt>
              <dd>{result.attempt ? `${result.attempt.durationMs} ms` : "—"}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Next retry</dt>
              <dd>{result.attempt?.nextAttemptAt ? formatDateTime(result.attempt.nextAttemptAt) : "none"}</dd>
            </div>
          </dl>
          {result.attempt?.error ? <p className="mt-2 text-red-700">{result.attempt.error}</p> : null}
          {result.attempt?.responseBody ? (
            <pre className="mt-2 max-h-48 overflow-auto rounded bg-slate-50 p-2 text-xs">
              {result.attempt.responseBody}
            </pre>
          ) : null}
          <Link
            to={`/webhooks/deliveries/${result.deliveryId}`}
            className="mt-2 inline-block text-indigo-700 underline"
          >
            View the delivery
          </Link>
        </div>
      ) : null}
    </section>
  );
}

export default function EndpointDetail() {
  const { user, endpoint, newSecret, retrySinceDefault } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errors = actionData?.fieldErrors ?? {};
  const shownSecret = actionData?.secret ?? (newSecret ? { label: "Signing secret", value: newSecret } : null);
  return (
    <AppShell user={user}>
      <Link to="/webhooks/endpoints" className="text-sm text-indigo-700 underline">
        ← Endpoints
      </Link>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">{endpoint.name}</h1>
        <EndpointStateChip state={endpoint.state} />
      </div>
      <p className="mt-1 break-all font-mono text-sm text-slate-600">{endpoint.url}</p>
      {endpoint.state.kind === "disabled" ? (
        <p role="alert" className="mt-4 rounded-md bg-red-50 p-3 text-sm text-red-800">
          Disabled{endpoint.disabledAt ? ` since ${formatDateTime(endpoint.disabledAt)}` : ""}: {endpoint.state.reason}{" "}
          Save the endpoint to turn it back on.
        </p>
      ) : null}
      {actionData?.message ? (
        <p role="status" className="mt-4 text-sm text-emerald-700">
          {actionData.message}
        </p>
      ) : null}
      {errors.form ? (
        <p role="alert" className="mt-4 text-sm text-red-700">
          {errors.form}
        </p>
      ) : null}

      <div className="mt-4 flex flex-wrap gap-3">
        <Link
          to={`/webhooks/endpoints/${endpoint.id}/edit`}
          className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50"
        >
          Edit
        </Link>
        <Link
          to={`/webhooks/endpoints/${endpoint.id}/stats`}
          className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50"
        >
          Stats
        </Link>
        {endpoint.pausedAt ? (
          <IntentButton intent="resume">Resume</IntentButton>
        ) : (
          <IntentButton intent="pause">Pause</IntentButton>
        )}
        <IntentButton
          intent="delete"
          variant="danger"
          confirmation={`Delete "${endpoint.name}" and its delivery log? This cannot be undone.`}
        >
          Delete
        </IntentButton>
      </div>

      <dl className="mt-6 grid grid-cols-2 gap-x-8 gap-y-3 text-sm sm:grid-cols-4">
        <div>
          <dt className="text-slate-500">Events</dt>
          <dd>{endpoint.eventTypes.length === 0 ? "all events" : endpoint.eventTypes.join(", ")}</dd>
        </div>
        <div>
          <dt className="text-slate-500">Retries</dt>
          <dd>
            {endpoint.maxRetries}
            {endpoint.retryBaseDelayMs ? `, first after ${endpoint.retryBaseDelayMs / 1000} s` : ", default schedule"}
          </dd>
        </div>
        <div>
          <dt className="text-slate-500">Timeout</dt>
          <dd>{endpoint.timeoutMs / 1000} s</dd>
        </div>
        <div>
          <dt className="text-slate-500">Rate limit</dt>
          <dd>{endpoint.rateLimitPerMinute} per minute (more wait, never dropped)</dd>
        </div>
        <div className="col-span-2 sm:col-span-4">
          <dt className="text-slate-500">Custom headers</dt>
          <dd>
            {endpoint.headers.length === 0 ? (
              "none"
            ) : (
              <ul className="font-mono text-xs">
                {endpoint.headers.map((header) => (
                  <li key={header.name}>
                    {header.name}: {header.hidden ? "(hidden)" : header.value}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
      </dl>

      <section className="mt-8 max-w-2xl border-t border-slate-200 pt-6" aria-labelledby="secret-heading">
        <h2 id="secret-heading" className="text-lg font-semibold">
          Signing secret
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          Every webhook is signed with it (Standard Webhooks, plus X-Webhook-Signature).
          {endpoint.previousSecretExpiresAt
            ? ` The previous secret also signs until ${formatDateTime(endpoint.previousSecretExpiresAt)}.`
            : ""}
        </p>
        {shownSecret ? (
          <div className="mt-3">
            <SecretOnce label={shownSecret.label} value={shownSecret.value} />
            {"note" in shownSecret && shownSecret.note ? (
              <p className="mt-2 text-sm text-slate-700">{shownSecret.note}</p>
            ) : null}
          </div>
        ) : null}
        <div className="mt-4 flex gap-3">
          <IntentButton intent="reveal-secret">Reveal secret</IntentButton>
          <IntentButton
            intent="rotate-secret"
            confirmation="Rotate the secret? The old one keeps signing for 24 hours."
          >
            Rotate secret
          </IntentButton>
        </div>
      </section>

      <TestEventPanel endpointId={endpoint.id} />

      <section className="mt-8" aria-labelledby="retry-heading">
        <h2 id="retry-heading" className="text-lg font-semibold">
          Retry failed deliveries
        </h2>
        <Form method="post" className="mt-2 flex flex-wrap items-end gap-3" noValidate>
          <CsrfInput />
          <input type="hidden" name="intent" value="retry-failed" />
          <label className="block text-sm text-slate-700">
            Every failed delivery since (UTC)
            <input
              type="datetime-local"
              name="since"
              defaultValue={retrySinceDefault}
              aria-invalid={errors.since ? true : undefined}
              className="mt-1 block rounded-md border border-slate-300 px-3 py-1.5 text-sm"
            />
          </label>
          <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50">
            Retry all failed
          </button>
        </Form>
        {errors.since ? (
          <p role="alert" className="mt-1 text-sm text-red-600">
            {errors.since}
          </p>
        ) : null}
      </section>

      <section className="mt-8" aria-labelledby="recent-heading">
        <div className="flex items-baseline justify-between">
          <h2 id="recent-heading" className="text-lg font-semibold">
            Recent deliveries
          </h2>
          <Link to={`/webhooks?endpointId=${endpoint.id}`} className="text-sm text-indigo-700 underline">
            All deliveries of this endpoint
          </Link>
        </div>
        {endpoint.recentDeliveries.length === 0 ? (
          <p className="mt-2 text-sm text-slate-600">Nothing sent yet. Send a test event to try it.</p>
        ) : (
          <DeliveriesTable deliveries={endpoint.recentDeliveries} className="mt-2" />
        )}
      </section>
    </AppShell>
  );
}
