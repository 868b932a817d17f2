import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import { EndpointForm } from "~/components/endpoint-form";
import { prisma } from "~/db.server";
import {
  endpointFormErrors,
  endpointInputFrom,
  formFieldOf,
  headerRowsForDisplay,
  readEndpointForm,
  redisplayedValues,
  type EndpointFormValues,
} from "~/lib/webhooks/endpoint-form";
import { getEndpoint } from "~/models/webhook-endpoint.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { subscribableEventTypes } from "~/services/webhooks/event-types.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";
import { openCustomHeaders } from "~/services/webhooks/custom-headers.server";
import { EndpointUpdateSchema, updateEndpoint } from "~/services/webhooks/endpoints.server";
import { endpointIdParam } from "~/services/webhooks/endpoint-params.server";

export const meta: MetaFunction = () => [{ title: "Edit endpoint · Echo" }];

async function requireOwnEndpoint(request: Request, params: unknown) {
  const user = await requireUser(request);
  const endpointId = endpointIdParam(params);
  const endpoint = await getEndpoint(prisma, { userId: user.id }, endpointId);
  if (!endpoint) throw new Response("No such endpoint.", { status: 404 });
  return { user, endpoint };
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { user, endpoint } = await requireOwnEndpoint(request, params);
  const values: EndpointFormValues = {
    name: endpoint.name,
    url: endpoint.url,
    secretMode: "generate",
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    headers: headerRowsForDisplay(openCustomHeaders(endpoint.customHeaders)),
    maxRetries: String(endpoint.maxRetries),
    retryBaseDelaySeconds: endpoint.retryBaseDelayMs === null ? "" : String(endpoint.retryBaseDelayMs / 1000),
    timeoutSeconds: String(endpoint.timeoutMs / 1000),
  };
  return {
    user,
    endpoint: { id: endpoint.id, name: endpoint.name, disabled: Boolean(endpoint.disabledAt) },
    values,
    // Operational events go to the owner's own endpoints only, never to one an OAuth app registered.
    catalog: (await subscribableEventTypes({ keep: endpoint.eventTypes })).filter(
      (entry) => !endpoint.oauthClientId || entry.kind !== "operational",
    ),
  };
}

type ActionResult = { fieldErrors: Record<string, string>; values: EndpointFormValues };

export async function action({ request, params }: ActionFunctionArgs) {
  const { user, endpoint } = await requireOwnEndpoint(request, params);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const values = readEndpointForm(formData);
  const refuse = (fieldErrors: Record<string, string>) =>
    data<ActionResult>({ fieldErrors, values: redisplayedValues(values) }, { status: 400 });

  const fromForm = endpointInputFrom(values, openCustomHeaders(endpoint.customHeaders));
  if (!fromForm.ok) return refuse(fromForm.fieldErrors);
  const parsed = EndpointUpdateSchema.safeParse(fromForm.input);
  if (!parsed.success) return refuse(endpointFormErrors(parsed.error));
  const updated = await attemptService(() => updateEndpoint({ userId: user.id }, endpoint.id, parsed.data));
  if (!updated.ok) return refuse({ [updated.field ? formFieldOf(updated.field) : "form"]: updated.message });
  return redirect(`/webhooks/endpoints/${endpoint.id}`);
}

export default function EditEndpoint() {
  const { user, endpoint, values, catalog } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <AppShell user={user}>
      <Link to={`/webhooks/endpoints/${endpoint.id}`} className="text-sm text-indigo-700 underline">
        ← {endpoint.name}
      </Link>
      <h1 className="mt-2 text-2xl font-semibold">Edit endpoint</h1>
      {endpoint.disabled ? (
        <p className="mt-2 text-sm text-slate-600">Echo disabled this endpoint; saving turns it back on.</p>
      ) : null}
      <EndpointForm
        values={actionData?.values ?? values}
        errors={actionData?.fieldErrors ?? {}}
        catalog={catalog}
        withSecret={false}
        submitLabel="Save endpoint"
      />
    </AppShell>
  );
}
