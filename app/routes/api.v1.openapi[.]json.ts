import { env } from "~/env.server";
import { buildOpenApiDocument } from "~/services/api/openapi.server";
import { methodNotAllowed } from "~/services/api/problem.server";

/** GET /api/v1/openapi.json: the API's OpenAPI 3.1 document, generated from the routes' zod schemas. */
export function loader() {
  return Response.json(buildOpenApiDocument(env.APP_URL));
}

export function action() {
  return methodNotAllowed(["GET"]);
}
