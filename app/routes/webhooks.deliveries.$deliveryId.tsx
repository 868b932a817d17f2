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

/** An id that cannot be a delivery's is simply not found. */
function deliveryIdFrom(params: unknown): string {
  const parsed = ParamsSchema.safeParse(params);
  if (!parsed.success) throw new Response("No such delivery.", { status: 404 });
  return parsed.data.deliveryId;
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const deliveryId = deliveryIdFrom(params);
  const delivery = await presentWebhookDelivery(prisma, { ownerId: user.id, deliveryId });
  if (!delivery) throw new Response("No such delivery.", { status: 404 });
  return { user, delivery };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  await requireValidCsrf(request, await request.formData());
  const deliveryId = deliveryIdFrom(params);
  const result = await retryDeliveryByHand({ deliveryId, ownerId: user.id });
  if (!result.ok) return data({ error: result.error }, { status: result.status });
  return { error: undefined };
}

function HeaderTable({ headers }: { headers: unknown }) {
  const entries = headers && typeof headers === "object" ? Object.entries(headers as Record<string, unknown>) : [];
  if (entries.length === 0) return <p className="mt-1 text-slate-500">none recorded</p>;
  return (
    <table className="mt-1 w-full table-fixed">
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name} className="align-top">
            <td className="w-2/5 break-all py-0.5 pr-2 font-mono text-slate-500">{name}</td>
            <td className="break-all py-0.5 font-mono">{Array.isArray(value) ? value.join(", ") : String(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
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
          <dd>
            {delivery.endpoint ? (
              <Link to={`/webhooks/endpoints/${delivery.endpoint.id}`} className="text-indigo-700 underline">
                {delivery.endpoint.name}
              </Link>
            ) : (
              delivery.oauthClient?.name
            )}
          </dd>
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

      <h2 className="mt-8 text-lg font-semibold">Request</h2>
      <p className="mt-1 text-sm text-slate-600">
        <span className="font-mono">POST {delivery.url}</span> · the same body on every attempt; each attempt&apos;s
        headers (with signatures redacted) are on the timeline.
      </p>
      <pre
        className="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100"
        data-testid="request-body"
      >
        {prettyJson(delivery.body)}
      </pre>

      <h2 className="mt-8 text-lg font-semibold">Attempts</h2>
      {delivery.attempts.length === 0 ? <p className="mt-2 text-sm text-slate-600">No attempt yet.</p> : null}
      <ol className="mt-4 space-y-6 border-l-2 border-slate-200 pl-6" aria-label="Attempts">
        {delivery.attempts.map((attempt) => {
          const succeeded = attempt.responseStatus !== null && attempt.responseStatus < 300;
          return (
            <li key={attempt.attemptNumber} className="relative" data-testid="attempt">
              <span
                aria-hidden
                className={`absolute -left-[31px] top-1.5 h-3.5 w-3.5 rounded-full ring-4 ring-slate-50 ${succeeded ? "bg-emerald-500" : "bg-red-500"}`}
              />
              <div className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
                <div className="flex flex-wrap items-center gap-3 text-sm">
                  <span className="font-medium">Attempt #{attempt.attemptNumber}</span>
                  <span>{formatDateTime(attempt.startedAt)}</span>
                  <span className={succeeded ? "text-emerald-700" : "text-red-700"}>
                    {attempt.responseStatus ? `HTTP ${attempt.responseStatus}` : "no response"}
                  </span>
                  <span className="text-slate-500">{attempt.durationMs} ms</span>
                </div>
                {attempt.error ? <p className="mt-2 text-sm text-red-700">{attempt.error}</p> : null}
                <div className="mt-3 grid gap-3 text-xs lg:grid-cols-2">
                  <div>
                    <h3 className="font-medium text-slate-700">Request headers</h3>
                    <HeaderTable headers={attempt.requestHeaders} />
                  </div>
                  <div>
                    <h3 className="font-medium text-slate-700">
                      Response{attempt.responseStatus ? ` · HTTP ${attempt.responseStatus}` : ""}
                    </h3>
                    {attempt.responseHeaders ? <HeaderTable headers={attempt.responseHeaders} /> : null}
                    {attempt.responseBody !== null ? (
                      <pre className="mt-2 max-h-64 overflow-auto rounded bg-slate-50 p-2" data-testid="response-body">
                        {attempt.responseBody || "(empty body)"}
                      </pre>
                    ) : (
                      <p className="mt-1 text-slate-500">No response.</p>
                    )}
                  </div>
                </div>
                {attempt.nextAttemptAt ? (
                  <p className="mt-3 text-sm text-amber-800">
                    Retry planned for {formatDateTime(attempt.nextAttemptAt)}.
                  </p>
                ) : null}
              </div>
            </li>
          );
        })}
        {delivery.status === "RETRYING" && delivery.nextAttemptAt ? (
          <li className="relative" data-testid="scheduled-attempt">
            <span
              aria-hidden
              className="absolute -left-[31px] top-1.5 h-3.5 w-3.5 rounded-full bg-amber-400 ring-4 ring-slate-50"
            />
            <div className="rounded-lg border border-dashed border-amber-300 bg-amber-50 p-4 text-sm text-amber-900">
              Attempt #{delivery.attemptCount + 1} scheduled at {formatDateTime(delivery.nextAttemptAt)}.
            </div>
          </li>
        ) : null}
      </ol>
    </AppShell>
  );
}
