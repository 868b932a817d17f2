import type { ActionFunctionArgs } from "@remix-run/node";
import { presentApiEndpoint } from "~/presenters/ApiEndpointPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { endpointIdFrom } from "~/services/api/request.server";
import { resumeEndpoint } from "~/services/webhooks/endpoints.server";

/** POST /api/v1/endpoints/:endpointId/resume: sends every delivery that waited, retries on their schedule. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  return answerServiceErrors(async () => Response.json(presentApiEndpoint(await resumeEndpoint(actor, endpointId))));
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
