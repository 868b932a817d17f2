import type { LoaderFunctionArgs } from "@remix-run/node";
import { presentApiRun } from "~/presenters/ApiRunPresenter.server";
import { methodNotAllowed, problem } from "~/services/api/problem.server";
import { NO_STORE } from "~/services/api/request.server";
import { requireApiOperator } from "~/services/auth/operators.server";
import { getRunDetail } from "~/services/runs/run-detail.server";
import { runIdOf } from "~/services/runs/run-params.server";

/** GET /api/v1/runs/:runId: one run with every attempt, its event and deliveries (operators). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireApiOperator(request);
  const runId = runIdOf(params);
  const run = runId ? await getRunDetail(runId) : null;
  if (!run) return problem(404, "Not found", "No such run.");
  return Response.json(presentApiRun(run), { headers: NO_STORE });
}

export function action() {
  return methodNotAllowed(["GET"]);
}
