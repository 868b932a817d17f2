import type { ActionFunctionArgs } from "@remix-run/node";
import { presentApiTestSend } from "~/presenters/ApiTestSendPresenter.server";
import { requireEndpointActor } from "~/services/api/authenticate.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { endpointIdFrom } from "~/services/api/request.server";
import { sendTestEvent } from "~/services/webhooks/test-event.server";

// The file name escapes `test` (`[test]`): Remix ignores route files named `*.test.ts`.

/** POST /api/v1/endpoints/:endpointId/test: sends a `webhook.test` event now and returns the receiver's answer. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const actor = await requireEndpointActor(request);
  const endpointId = endpointIdFrom(params);
  return answerServiceErrors(async () => Response.json(presentApiTestSend(await sendTestEvent(actor, endpointId))));
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
