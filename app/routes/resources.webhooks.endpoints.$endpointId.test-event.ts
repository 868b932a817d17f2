import type { ActionFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { requireUser } from "~/services/auth/session.server";
import { attemptService } from "~/services/service-result.server";
import { sendTestEvent } from "~/services/webhooks/test-event.server";
import { endpointIdParam } from "~/services/webhooks/endpoint-params.server";

/** The endpoint page's "Send test event" (a fetcher): the receiver's answer to the first attempt. */
export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  await requireValidCsrf(request, await request.formData());
  const endpointId = endpointIdParam(params);
  const sent = await attemptService(() => sendTestEvent({ userId: user.id }, endpointId));
  if (!sent.ok) return data({ error: sent.message }, { status: sent.status });
  return { deliveryId: sent.value.deliveryId, outcome: sent.value.outcome, attempt: sent.value.attempt };
}

export function loader() {
  throw new Response("Not found", { status: 404 });
}
