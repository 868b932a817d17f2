import type { ActionFunctionArgs } from "@remix-run/node";
import { presentApiEndpoint } from "~/presenters/ApiEndpointPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { endpointIdFrom } from "~/services/api/request.server";
import { pauseEndpoint } from "~/services/webhooks/endpoints.server";

/** POST /api/v1/endpoints/:endpointId/pause: stops sending: new deliveries wait until the endpoint is resumed. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  return answerServiceErrors(async () => Response.json(presentApiEndpoint(await pauseEndpoint(actor, endpointId))));
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
