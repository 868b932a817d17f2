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
import { IdempotencyKeySchema, PublishEventSchema, publishEvents } from "~/services/webhooks/publish.server";

/** Publishing is a POST; there is nothing to list here. */
export function loader() {
  return methodNotAllowed(["POST"]);
}

/**
 * POST /api/v1/events: publishes one event of a custom type to the caller's endpoints (an
 * operator's key: to any user's, with `userId`). 202: recorded in the outbox and handed to the
 * fan-out; every subscribed endpoint gets it, signed, retried and logged.
 */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const { userId } = await requireApiUser(request);
  const json = await readJson(request);
  if (!json.ok) return json.response;
  const parsed = PublishEventSchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  const header = idempotencyKeyHeader(request);
  let idempotencyKey = parsed.data.idempotencyKey;
  if (header !== null) {
    const key = IdempotencyKeySchema.safeParse(header);
    if (!key.success) {
      return problem(400, "Invalid request", key.error.issues[0]!.message, {
        errors: [{ field: "Idempotency-Key", message: key.error.issues[0]!.message }],
      });
    }
    if (idempotencyKey !== undefined && idempotencyKey !== key.data) {
      const message = "The Idempotency-Key header and the idempotencyKey field differ; send one of them.";
      return problem(400, "Invalid request", message, { errors: [{ field: "idempotencyKey", message }] });
    }
    idempotencyKey = key.data;
  }
  return answerServiceErrors(async () => {
    const [event] = await publishEvents({ publisherId: userId }, [{ ...parsed.data, idempotencyKey }]);
    return Response.json(presentApiPublishedEvent(event!), {
      status: 202,
      headers: event!.replayed ? { "Idempotent-Replayed": "true" } : {},
    });
  });
}
