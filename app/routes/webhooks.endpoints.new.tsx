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
  readEndpointForm,
  redisplayedValues,
  type EndpointFormValues,
} from "~/lib/webhooks/endpoint-form";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from "~/lib/webhooks/retry-policy";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { subscribableEventTypes } from "~/services/webhooks/event-types.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";
import { EndpointCreateSchema, MAX_ENDPOINTS_PER_USER, createEndpoint } from "~/services/webhooks/endpoints.server";
import { newSecretFlash } from "~/services/webhooks/secret-flash.server";

export const meta: MetaFunction = () => [{ title: "New endpoint · Echo" }];

const EMPTY: EndpointFormValues = {
  name: "",
  url: "",
  secretMode: "generate",
  eventTypes: [],
  enabled: true,
  headers: [],
  maxRetries: String(DEFAULT_MAX_RETRIES),
  retryBaseDelaySeconds: "",
  timeoutSeconds: String(DEFAULT_TIMEOUT_MS / 1000),
};

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const count = await prisma.webhookEndpoint.count({ where: { ownerId: user.id } });
  return {
    user,
    atLimit: count >= MAX_ENDPOINTS_PER_USER,
    catalog: await subscribableEventTypes(),
  };
}

type ActionResult = { fieldErrors: Record<string, string>; values: EndpointFormValues };

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const values = readEndpointForm(formData);
  const refuse = (fieldErrors: Record<string, string>, status: 400 | 409 = 400) =>
    data<ActionResult>({ fieldErrors, values: redisplayedValues(values) }, { status });

  const fromForm = endpointInputFrom(values);
  if (!fromForm.ok) return refuse(fromForm.fieldErrors);
  const secret = values.secretMode === "paste" ? String(formData.get("secret") ?? "").trim() : undefined;
  const parsed = EndpointCreateSchema.safeParse({ ...fromForm.input, ...(secret !== undefined ? { secret } : {}) });
  if (!parsed.success) return refuse(endpointFormErrors(parsed.error));
  const created = await attemptService(() => createEndpoint({ userId: user.id }, parsed.data));
  if (!created.ok) {
    return refuse(
      { [created.field ? formFieldOf(created.field) : "form"]: created.message },
      created.status === 409 ? 409 : 400,
    );
  }
  // A generated secret is shown once, on the endpoint's page; a pasted one the owner already has.
  return redirect(`/webhooks/endpoints/${created.value.id}`, {
    headers: secret === undefined ? { "Set-Cookie": await newSecretFlash(created.value.id) } : {},
  });
}

export default function NewEndpoint() {
  const { user, catalog, atLimit } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <AppShell user={user}>
      <Link to="/webhooks/endpoints" className="text-sm text-indigo-700 underline">
        ← Endpoints
      </Link>
      <h1 className="mt-2 text-2xl font-semibold">New endpoint</h1>
      {atLimit ? (
        <p role="alert" className="mt-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900">
          You already have the most endpoints Echo allows; delete one before adding another.
        </p>
      ) : null}
      <EndpointForm
        values={actionData?.values ?? EMPTY}
        errors={actionData?.fieldErrors ?? {}}
        catalog={catalog}
        withSecret
        submitLabel="Create endpoint"
      />
    </AppShell>
  );
}
