import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { endpointIdFrom, readQuery } from "~/services/api/request.server";
import { StatsQuerySchema, getEndpointStats } from "~/services/webhooks/endpoint-stats.server";

/** GET /api/v1/endpoints/:endpointId/stats?window=1h|24h|7d|30d: counts, success rate, latency percentiles, series. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  const query = readQuery(request, StatsQuerySchema);
  if (!query.ok) return query.response;
  return answerServiceErrors(async () => Response.json(await getEndpointStats(actor, endpointId, query.data.window)));
}

export function action() {
  return methodNotAllowed(["GET"]);
}
