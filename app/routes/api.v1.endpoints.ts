import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { listEndpoints } from "~/models/webhook-endpoint.server";
import { presentApiEndpoint } from "~/presenters/ApiEndpointPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed, readJson, validationProblem } from "~/services/api/problem.server";
import { NO_STORE } from "~/services/api/request.server";
import { decryptAtRest } from "~/services/encryption.server";
import { EndpointCreateSchema, createEndpoint } from "~/services/webhooks/endpoints.server";

/** GET /api/v1/endpoints: the caller's endpoints (an OAuth app sees those it registered for this user). */
export async function loader({ request }: LoaderFunctionArgs) {
  const actor = await requireEndpointActor(request);
  const endpoints = await listEndpoints(prisma, actor);
  return Response.json({ data: endpoints.map((endpoint) => presentApiEndpoint(endpoint)) });
}

/** POST /api/v1/endpoints: creates an endpoint; its signing secret is in this answer only. */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
  const actor = await requireEndpointActor(request);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = EndpointCreateSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () => {
    const endpoint = await createEndpoint(actor, parsed.data);
    return Response.json(
      { ...presentApiEndpoint(endpoint), secret: decryptAtRest(endpoint.secret) },
      { status: 201, headers: { ...NO_STORE, Location: `/api/v1/endpoints/${endpoint.id}` } },
    );
  });
}
