import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { NO_STORE, endpointIdFrom } from "~/services/api/request.server";
import { revealEndpointSecret } from "~/services/webhooks/endpoints.server";

/** GET /api/v1/endpoints/:endpointId/secret: the current signing secret, asked for deliberately. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  return answerServiceErrors(async () =>
    Response.json({ secret: await revealEndpointSecret(actor, endpointId) }, { headers: NO_STORE }),
  );
}

export function action() {
  return methodNotAllowed(["GET"]);
}
