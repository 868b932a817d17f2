import type { ActionFunctionArgs } from "@remix-run/node";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import {
  answerServiceErrors,
  methodNotAllowed,
  readOptionalJson,
  validationProblem,
} from "~/services/api/problem.server";
import { NO_STORE, endpointIdFrom } from "~/services/api/request.server";
import { RotateSecretSchema, rotateEndpointSecret } from "~/services/webhooks/endpoints.server";

/**
 * POST /api/v1/endpoints/:endpointId/rotate-secret, optionally `{ "secret": "whsec_…" }`: a new
 * signing secret, returned once; the previous one keeps signing for 24 hours.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  const json = await readOptionalJson(request);
  if (!json.ok) return json.response;
  const parsed = RotateSecretSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () => {
    const rotated = await rotateEndpointSecret(actor, endpointId, parsed.data.secret);
    return Response.json(
      { secret: rotated.secret, previousSecretExpiresAt: rotated.previousSecretExpiresAt.toISOString() },
      { headers: NO_STORE },
    );
  });
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
