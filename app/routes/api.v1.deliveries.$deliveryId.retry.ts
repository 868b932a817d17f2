import type { ActionFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { presentApiDeliverySummary } from "~/presenters/ApiDeliveryPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { methodNotAllowed, problem } from "~/services/api/problem.server";
import { deliveryIdFrom } from "~/services/api/request.server";
import { getDelivery } from "~/services/webhooks/delivery-log.server";
import { retryDeliveryByHand } from "~/services/webhooks/retry-delivery.server";

const RETRY_PROBLEM_TITLES = { 404: "Not found", 409: "Conflict", 503: "Service unavailable" } as const;

/** POST /api/v1/deliveries/:deliveryId/retry: one more attempt of a failed delivery, now. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const actor = await requireEndpointActor(request);
  const deliveryId = deliveryIdFrom(params);
  const result = await retryDeliveryByHand({ deliveryId, ownerId: actor.userId, oauthClientId: actor.oauthClientId });
  if (!result.ok) return problem(result.status, RETRY_PROBLEM_TITLES[result.status], result.error);
  const delivery = await getDelivery(actor, deliveryId, prisma);
  if (!delivery) return problem(404, "Not found", "No such delivery.");
  return Response.json(presentApiDeliverySummary(delivery), { status: 202 });
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
