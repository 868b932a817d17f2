import type { LoaderFunctionArgs } from "@remix-run/node";
import { env } from "~/env.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { buildOpenApiDocument } from "~/services/api/openapi.server";
import { methodNotAllowed } from "~/services/api/problem.server";
import { listEventCatalog } from "~/services/webhooks/event-types.server";

/**
 * GET /api/v1/openapi.json: the API's OpenAPI 3.1 document, generated from the routes' zod schemas,
 * with the event catalog as its `webhooks`. It needs no key; the catalog's custom types, which are the
 * product's own, are in it only for a caller with a key or token (as GET /api/v1/event-types).
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = request.headers.has("Authorization")
    ? await requireEndpointActor(request).then(
        () => true,
        () => false,
      )
    : false;
  const catalog = await listEventCatalog();
  return Response.json(
    buildOpenApiDocument(env.APP_URL, signedIn ? catalog : catalog.filter((entry) => entry.kind !== "custom")),
  );
}

export function action() {
  return methodNotAllowed(["GET"]);
}
