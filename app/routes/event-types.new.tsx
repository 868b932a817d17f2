import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { EventTypeForm } from "~/components/event-type-form";
import {
  NEW_EVENT_TYPE_VALUES,
  eventTypeInputFrom,
  fieldErrorsFromIssues,
  readEventTypeForm,
  type EventTypeFormValues,
} from "~/lib/events/event-type-form";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireOperator } from "~/services/auth/operators.server";
import { attemptService } from "~/services/service-result.server";
import { EventTypeCreateSchema, createEventType } from "~/services/webhooks/event-types.server";

export const meta: MetaFunction = () => [{ title: "New event type · Echo" }];

/** Operators manage the catalog; anyone else finds no such page. */
export async function loader({ request }: LoaderFunctionArgs) {
  return { user: await requireOperator(request) };
}

type ActionResult = { fieldErrors: Record<string, string>; values: EventTypeFormValues };

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireOperator(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const values = readEventTypeForm(formData);
  const refuse = (fieldErrors: Record<string, string>, status = 400) =>
    data<ActionResult>({ fieldErrors, values }, { status });

  const fromForm = eventTypeInputFrom(values);
  if (!fromForm.ok) return refuse(fromForm.fieldErrors);
  const parsed = EventTypeCreateSchema.safeParse(fromForm.input);
  if (!parsed.success)
    return refuse(
      fieldErrorsFromIssues(
        parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message })),
      ),
    );
  const created = await attemptService(() => createEventType(user.id, parsed.data));
  if (!created.ok) {
    return refuse(
      created.issues ? fieldErrorsFromIssues(created.issues) : { [created.field ?? "form"]: created.message },
      created.status,
    );
  }
  return redirect(`/event-types/${created.value.type}`);
}

export default function NewEventType() {
  const { user } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <AppShell user={user}>
      <Link to="/event-types" className="text-sm text-indigo-700 underline">
        ← Event types
      </Link>
      <h1 className="mt-2 text-2xl font-semibold">New event type</h1>
      <p className="mt-1 max-w-2xl text-slate-600">
        Your product publishes events of it with <code>POST /api/v1/events</code>; every endpoint subscribed to it
        receives them.
      </p>
      <EventTypeForm
        values={actionData?.values ?? NEW_EVENT_TYPE_VALUES}
        errors={actionData?.fieldErrors ?? {}}
        withName
        submitLabel="Create event type"
      />
    </AppShell>
  );
}
