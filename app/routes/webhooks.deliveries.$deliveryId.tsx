import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { formatDateTime } from "~/lib/format";
import { AppShell } from "~/components/app-shell";
import { CsrfInput } from "~/components/csrf-input";
import { StatusChip } from "~/components/status-chip";
import { prisma } from "~/db.server";
import { presentWebhookDelivery } from "~/presenters/WebhookDeliveryPresenter.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { retryDeliveryByHand } from "~/services/webhooks/retry-delivery.server";

export const meta: MetaFunction = () => [{ title: "Delivery · Echo" }];

const ParamsSchema = z.object({ deliveryId: z.string().min(1).max(100) });

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const { deliveryId } = ParamsSchema.parse(params);
  const delivery = await presentWebhookDelivery(prisma, { ownerId: user.id, deliveryId });
  if (!delivery) throw new Response("No such delivery.", { status: 404 });
  return { user, delivery };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  await requireValidCsrf(request, await request.formData());
  const { deliveryId } = ParamsSchema.parse(params);
  const result = await retryDeliveryByHand({ deliveryId, ownerId: user.id });
  if (!result.ok) return data({ error: result.error }, { status: result.status });
  return { error: undefined };
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export default function DeliveryDetail() {
  const { user, delivery } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <AppShell user={user}>
      <Link to="/webhooks" className="text-sm text-indigo-700 underline">
        ← All deliveries
      </Link>
      <div className="mt-3 flex items-center gap-3">
        <h1 className="font-mono text-xl font-semibold">{delivery.eventType}</h1>
        <StatusChip status={delivery.status} />
      </div>
      <dl className="mt-4 grid grid-cols-2 gap-x-8 gap-y-2 text-sm sm:grid-cols-4">
        <div>
          <dt className="text-slate-500">To</dt>
          <dd>{delivery.oauthClient?.name ?? delivery.endpoint?.name}</dd>
        </div>
        <div>
          <dt className="text-slate-500">URL</dt>
          <dd className="break-all font-mono">{delivery.url}</dd>
        </div>
        <div>
          <dt className="text-slate-500">Attempts</dt>
          <dd>
            {delivery.attemptCount} of {delivery.maxAttempts}
          </dd>
        </div>
        <div>
          <dt className="text-slate-500">Delivery id (webhook-id)</dt>
          <dd className="font-mono text-xs">{delivery.id}</dd>
        </div>
      </dl>
      {delivery.status === "RETRYING" && delivery.nextAttemptAt ? (
        <p className="mt-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900" data-testid="next-retry">
          Next attempt scheduled at {formatDateTime(delivery.nextAttemptAt)}.
        </p>
      ) : null}
      {delivery.status === "FAILED" ? (
        <Form method="post" className="mt-4">
          <CsrfInput />
          <button
            type="submit"
            className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500"
          >
            Retry now
          </button>
        </Form>
      ) : null}
      {actionData?.error ? (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {actionData.error}
        </p>
      ) : null}

      <h2 className="mt-8 text-lg font-semibold">Payload</h2>
      <pre className="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100">
        {prettyJson(delivery.body)}
      </pre>

      <h2 className="mt-8 text-lg font-semibold">Attempts</h2>
      <ol className="mt-2 space-y-4" aria-label="Attempts">
        {delivery.attempts.map((attempt) => (
          <li
            key={attempt.attemptNumber}
            className="rounded-lg bg-white p-4 ring-1 ring-slate-200"
            data-testid="attempt"
          >
            <div className="flex flex-wrap items-center gap-3 text-sm">
              <span className="font-medium">#{attempt.attemptNumber}</span>
              <span>{formatDateTime(attempt.startedAt)}</span>
              <span
                className={attempt.responseStatus && attempt.responseStatus < 300 ? "text-emerald-700" : "text-red-700"}
              >
                {attempt.responseStatus ? `HTTP ${attempt.responseStatus}` : "no response"}
              </span>
              <span className="text-slate-500">{attempt.durationMs} ms</span>
              {attempt.nextAttemptAt ? (
                <span className="text-amber-800">retry scheduled {formatDateTime(attempt.nextAttemptAt)}</span>
              ) : null}
            </div>
            {attempt.error ? <p className="mt-2 text-sm text-red-700">{attempt.error}</p> : null}
            <details className="mt-2 text-xs">
              <summary className="cursor-pointer text-slate-600">Request headers</summary>
              <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2">
                {JSON.stringify(attempt.requestHeaders, null, 2)}
              </pre>
            </details>
            {attempt.responseBody !== null ? (
              <details className="mt-2 text-xs">
                <summary className="cursor-pointer text-slate-600">Response body (first 4 KB)</summary>
                <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2">{attempt.responseBody || "(empty)"}</pre>
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </AppShell>
  );
}
