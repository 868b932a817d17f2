import type { ActionFunctionArgs } from "@remix-run/node";
import { presentApiRun } from "~/presenters/ApiRunPresenter.server";
import { answerServiceErrors, methodNotAllowed, problem } from "~/services/api/problem.server";
import { NO_STORE } from "~/services/api/request.server";
import { requireApiOperator } from "~/services/auth/operators.server";
import { findUserById } from "~/models/user.server";
import { prisma } from "~/db.server";
import { replayRun } from "~/services/runs/run-actions.server";
import { getRunDetail } from "~/services/runs/run-detail.server";
import { runIdOf } from "~/services/runs/run-params.server";

/** POST /api/v1/runs/:runId/replay: a new run with the same payload (a delivery: one more attempt), recorded. */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  const { userId } = await requireApiOperator(request);
  const runId = runIdOf(params);
  if (!runId) return problem(404, "Not found", "No such run.");
  const actor = await findUserById(prisma, userId);
  if (!actor) return problem(404, "Not found", "No such run.");
  return answerServiceErrors(async () => {
    const replayed = await replayRun(runId, { id: actor.id, email: actor.email });
    const run = await getRunDetail(replayed.runId);
    if (!run) return problem(404, "Not found", "No such run.");
    return Response.json(presentApiRun(run), { status: 202, headers: NO_STORE });
  });
}

export function loader() {
  return methodNotAllowed(["POST"]);
}
