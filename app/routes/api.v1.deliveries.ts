import type { LoaderFunctionArgs } from "@remix-run/node";
import { presentApiDeliverySummary } from "~/presenters/ApiDeliveryPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { readQuery } from "~/services/api/request.server";
import { DeliveryListFiltersSchema, listDeliveries } from "~/services/webhooks/delivery-log.server";

/** GET /api/v1/deliveries?status&eventType&endpointId&oauthAppId&since&until&limit&cursor: newest first, a page at a time. */
export async function loader({ request }: LoaderFunctionArgs) {
  const actor = await requireEndpointActor(request);
  const query = readQuery(request, DeliveryListFiltersSchema);
  if (!query.ok) return query.response;
  return answerServiceErrors(async () => {
    const page = await listDeliveries(actor, query.data);
    return Response.json({ data: page.deliveries.map(presentApiDeliverySummary), nextCursor: page.nextCursor });
  });
}

export function action() {
  return methodNotAllowed(["GET"]);
}
