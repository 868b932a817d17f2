import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { presentApiEventType } from "~/presenters/ApiEventTypePresenter.server";
import { requireApiUser, requireEndpointActor } from "~/services/api/authenticate.server";
import {
  answerServiceErrors,
  methodNotAllowed,
  problem,
  readJson,
  validationProblem,
} from "~/services/api/problem.server";
import { eventTypeFrom } from "~/services/api/request.server";
import { EventTypeUpdateSchema, getCatalogEntry, updateEventType } from "~/services/webhooks/event-types.server";

/** GET /api/v1/event-types/:eventType: one type of the catalog, archived or not. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireEndpointActor(request);
  const entry = await getCatalogEntry(eventTypeFrom(params));
  if (!entry) return problem(404, "Not found", "No such event type.");
  return Response.json(presentApiEventType(entry));
}

/** PATCH /api/v1/event-types/:eventType: an operator changes a custom type, or archives or restores it. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "PATCH") return methodNotAllowed(["GET", "PATCH"]);
  const { userId } = await requireApiUser(request);
  const name = eventTypeFrom(params);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = EventTypeUpdateSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () =>
    Response.json(presentApiEventType(await updateEventType(userId, name, parsed.data))),
  );
}
