import type { ActionFunctionArgs } from "@remix-run/node";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed, readJson, validationProblem } from "~/services/api/problem.server";
import { endpointIdFrom } from "~/services/api/request.server";
import { RetryFailedSchema, retryFailedDeliveries } from "~/services/webhooks/endpoints.server";

/** POST /api/v1/endpoints/:endpointId/retry-failed `{ "since": "<ISO date-time>" }`: one more attempt for each failed delivery since then. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = RetryFailedSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () =>
    Response.json(await retryFailedDeliveries(actor, endpointId, new Date(parsed.data.since))),
  );
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
