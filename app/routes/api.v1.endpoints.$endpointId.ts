import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { getEndpoint } from "~/models/webhook-endpoint.server";
import { presentApiEndpoint } from "~/presenters/ApiEndpointPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import {
  answerServiceErrors,
  methodNotAllowed,
  problem,
  readJson,
  validationProblem,
} from "~/services/api/problem.server";
import { endpointIdFrom } from "~/services/api/request.server";
import { EndpointUpdateSchema, deleteEndpoint, updateEndpoint } from "~/services/webhooks/endpoints.server";

/** GET /api/v1/endpoints/:endpointId */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const actor = await requireEndpointActor(request);
  const endpoint = await getEndpoint(prisma, actor, endpointIdFrom(params));
  if (!endpoint) return problem(404, "Not found", "No such endpoint.");
  return Response.json(presentApiEndpoint(endpoint));
}

/** PATCH (any field of the endpoint but its secret) or DELETE /api/v1/endpoints/:endpointId */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "PATCH" && request.method !== "DELETE") return methodNotAllowed(["GET", "PATCH", "DELETE"]);
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  if (request.method === "DELETE") {
    return answerServiceErrors(async () => {
      await deleteEndpoint(actor, endpointId);
      return new Response(null, { status: 204 });
    });
  }
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = EndpointUpdateSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () =>
    Response.json(presentApiEndpoint(await updateEndpoint(actor, endpointId, parsed.data))),
  );
}
