import type { LoaderFunctionArgs } from "@remix-run/node";
import { presentApiDelivery } from "~/presenters/ApiDeliveryPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { methodNotAllowed, problem } from "~/services/api/problem.server";
import { deliveryIdFrom } from "~/services/api/request.server";
import { getDelivery } from "~/services/webhooks/delivery-log.server";

/** GET /api/v1/deliveries/:deliveryId: the delivery with its body and every attempt (request headers, response). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const actor = await requireEndpointActor(request);
  const delivery = await getDelivery(actor, deliveryIdFrom(params));
  if (!delivery) return problem(404, "Not found", "No such delivery.");
  return Response.json(presentApiDelivery(delivery));
}

export function action() {
  return methodNotAllowed(["GET"]);
}
