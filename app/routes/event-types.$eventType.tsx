import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { AppShell } from "~/components/app-shell";
import { EventTypeForm } from "~/components/event-type-form";
import { IntentButton } from "~/components/intent-button";
import {
  eventTypeInputFrom,
  fieldErrorsFromIssues,
  readEventTypeForm,
  type EventTypeFormValues,
} from "~/lib/events/event-type-form";
import { formatDateTime } from "~/lib/format";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireOperator } from "~/services/auth/operators.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";
import { EventTypeUpdateSchema, getCatalogEntry, updateEventType } from "~/services/webhooks/event-types.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.entry.type ?? "Event type"} · Echo` },
];

const ParamsSchema = z.object({ eventType: z.string().min(1).max(100) });

function eventTypeParam(params: unknown): string {
  const parsed = ParamsSchema.safeParse(params);
  if (!parsed.success) throw new Response("No such event type.", { status: 404 });
  return parsed.data.eventType;
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const entry = await getCatalogEntry(eventTypeParam(params));
  if (!entry) throw new Response("No such event type.", { status: 404 });
  return {
    user,
    entry: {
      type: entry.type,
      kind: entry.kind,
      description: entry.description,
      archived: entry.archived,
      updatedAt: entry.updatedAt,
      schema: pretty(entry.schema),
      example: pretty(entry.example),
    },
    canEdit: user.isOperator && entry.kind === "custom",
  };
}

type ActionResult = { fieldErrors: Record<string, string>; values?: EventTypeFormValues; message?: string };

/** Operators save, archive or restore a custom type; anyone else finds no such form. */
export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireOperator(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const name = eventTypeParam(params);
  const intent = formData.get("intent");

  if (intent === "archive" || intent === "restore") {
    const changed = await attemptService(() => updateEventType(user.id, name, { archived: intent === "archive" }));
    if (!changed.ok) return data<ActionResult>({ fieldErrors: { form: changed.message } }, { status: changed.status });
    return data<ActionResult>({
      fieldErrors: {},
      message:
        intent === "archive"
          ? "Archived: nothing more can be published; endpoints keep their subscriptions."
          : "Restored: events of this type can be published again.",
    });
  }
  if (intent !== "save") return data<ActionResult>({ fieldErrors: { form: "Unknown action." } }, { status: 400 });

  const values = readEventTypeForm(formData);
  const refuse = (fieldErrors: Record<string, string>, status = 400) =>
    data<ActionResult>({ fieldErrors, values }, { status });
  const fromForm = eventTypeInputFrom(values);
  if (!fromForm.ok) return refuse(fromForm.fieldErrors);
  const parsed = EventTypeUpdateSchema.safeParse({
    description: fromForm.input.description,
    schema: fromForm.input.schema,
    example: fromForm.input.example,
  });
  if (!parsed.success)
    return refuse(
      fieldErrorsFromIssues(
        parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message })),
      ),
    );
  const saved = await attemptService(() => updateEventType(user.id, name, parsed.data));
  if (!saved.ok)
    return refuse(
      saved.issues ? fieldErrorsFromIssues(saved.issues) : { [saved.field ?? "form"]: saved.message },
      saved.status,
    );
  return data<ActionResult>({ fieldErrors: {}, message: "Saved." });
}

const KIND_LABELS = { "built-in": "Echo's event", operational: "Operational event", custom: "Custom event" } as const;

export default function EventTypePage() {
  const { user, entry, canEdit } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const values: EventTypeFormValues = actionData?.values ?? {
    name: entry.type,
    description: entry.description,
    schema: entry.schema,
    example: entry.example,
  };
  return (
    <AppShell user={user}>
      <Link to="/event-types" className="text-sm text-indigo-700 underline">
        ← Event types
      </Link>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <h1 className="font-mono text-2xl font-semibold">{entry.type}</h1>
        <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700 ring-1 ring-inset ring-slate-500/20">
          {KIND_LABELS[entry.kind]}
        </span>
        {entry.archived ? (
          <span
            data-testid="event-type-archived"
            className="rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-inset ring-amber-600/20"
          >
            archived
          </span>
        ) : null}
      </div>
      <p className="mt-1 max-w-3xl text-slate-600">{entry.description}</p>
      {entry.updatedAt ? (
        <p className="mt-1 text-xs text-slate-500">Last changed {formatDateTime(entry.updatedAt)}</p>
      ) : null}
      {actionData?.message ? (
        <p role="status" className="mt-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          {actionData.message}
        </p>
      ) : null}

      {canEdit ? (
        <>
          <EventTypeForm values={values} errors={actionData?.fieldErrors ?? {}} withName={false} submitLabel="Save" />
          <div className="mt-8 border-t border-slate-200 pt-6">
            {entry.archived ? (
              <IntentButton intent="restore">Restore</IntentButton>
            ) : (
              <IntentButton
                intent="archive"
                variant="danger"
                confirmation={`Archive ${entry.type}? Nothing more can be published until it is restored.`}
              >
                Archive
              </IntentButton>
            )}
          </div>
        </>
      ) : (
        <div className="mt-6 grid gap-6 lg:grid-cols-2">
          <section>
            <h2 className="text-sm font-semibold text-slate-700">Payload JSON Schema</h2>
            <pre className="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100">
              {entry.schema}
            </pre>
          </section>
          <section>
            <h2 className="text-sm font-semibold text-slate-700">Example payload</h2>
            <pre className="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100">
              {entry.example}
            </pre>
          </section>
        </div>
      )}

      {entry.kind === "custom" && !entry.archived ? (
        <section className="mt-8 max-w-3xl">
          <h2 className="text-sm font-semibold text-slate-700">Publish one</h2>
          <pre className="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100">
            {`curl -X POST "$ECHO_URL/api/v1/events" \\
  -H "Authorization: Bearer $ECHO_API_KEY" -H "Content-Type: application/json" \\
  -H "Idempotency-Key: $(uuidgen)" \\
  -d '${JSON.stringify({ eventType: entry.type, payload: JSON.parse(entry.example) as unknown })}'`}
          </pre>
        </section>
      ) : null}
    </AppShell>
  );
}
