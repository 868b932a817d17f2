import { describeEventTypes } from "~/lib/events/catalog";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { methodNotAllowed } from "~/services/api/problem.server";

/** GET /api/v1/event-types: the catalog of events an endpoint can subscribe to, with their JSON Schemas. */
export async function loader({ request }: { request: Request }) {
  await requireEndpointActor(request);
  return Response.json({ data: describeEventTypes() });
}

export function action() {
  return methodNotAllowed(["GET"]);
}
