import type { ActionFunctionArgs } from "@remix-run/node";
import { presentApiPublishedEvent } from "~/presenters/ApiPublishedEventPresenter.server";
import { requireApiUser } from "~/services/api/authenticate.server";
import {
  answerServiceErrors,
  methodNotAllowed,
  problem,
  readJson,
  validationProblem,
} from "~/services/api/problem.server";
import { idempotencyKeyHeader } from "~/services/api/request.server";
import { fieldOfBatchItem, PublishBatchSchema, publishEvents } from "~/services/webhooks/publish.server";

/** Publishing is a POST; there is nothing to list here. */
export function loader() {
  return methodNotAllowed(["POST"]);
}

/**
 * POST /api/v1/events/batch: up to 100 events, all published or none (a refusal names every
 * failing item, `events.<i>.<field>`, and writes nothing). Each event may carry its own
 * `idempotencyKey`; the answer lists the events in the order sent.
 */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const { userId } = await requireApiUser(request);
  if (idempotencyKeyHeader(request) !== null) {
    const message = "A batch takes an idempotencyKey per event, not an Idempotency-Key header.";
    return problem(400, "Invalid request", message, { errors: [{ field: "Idempotency-Key", message }] });
  }
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = PublishBatchSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  return answerServiceErrors(async () => {
    const events = await publishEvents({ publisherId: userId }, parsed.data.events, undefined, {
      fieldOf: fieldOfBatchItem,
    });
    return Response.json({ data: events.map(presentApiPublishedEvent) }, { status: 202 });
  });
}
