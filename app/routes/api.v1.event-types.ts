import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { presentApiEventType } from "~/presenters/ApiEventTypePresenter.server";
import { requireApiUser, requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed, readJson, validationProblem } from "~/services/api/problem.server";
import { readQuery } from "~/services/api/request.server";
import {
  EventTypeCreateSchema,
  EventTypeListQuerySchema,
  createEventType,
  listEventCatalog,
} from "~/services/webhooks/event-types.server";

/** GET /api/v1/event-types: the catalog (Echo's own types and custom ones) with their JSON Schemas. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireEndpointActor(request);
  const query = readQuery(request, EventTypeListQuerySchema);
  if (!query.ok) return query.response;
  const catalog = await listEventCatalog({ includeArchived: query.data.includeArchived === "true" });
  return Response.json({ data: catalog.map(presentApiEventType) });
}

/** POST /api/v1/event-types: an operator adds a custom type. */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
  const { userId } = await requireApiUser(request);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = EventTypeCreateSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () => {
    const created = await createEventType(userId, parsed.data);
    return Response.json(presentApiEventType(created), {
      status: 201,
      headers: { Location: `/api/v1/event-types/${encodeURIComponent(created.type)}` },
    });
  });
}
