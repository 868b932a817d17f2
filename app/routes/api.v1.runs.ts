import type { LoaderFunctionArgs } from "@remix-run/node";
import { presentApiRunSummary } from "~/presenters/ApiRunPresenter.server";
import { answerServiceErrors, methodNotAllowed } from "~/services/api/problem.server";
import { NO_STORE, readQuery } from "~/services/api/request.server";
import { requireApiOperator } from "~/services/auth/operators.server";
import { RunListFiltersSchema, listRuns } from "~/services/runs/run-list.server";

/** GET /api/v1/runs?task&status&since&until&q&limit&cursor: every run, newest first, a page at a time (operators). */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireApiOperator(request);
  const query = readQuery(request, RunListFiltersSchema);
  if (!query.ok) return query.response;
  return answerServiceErrors(async () => {
    const page = await listRuns(query.data);
    return Response.json(
      { data: page.runs.map(presentApiRunSummary), nextCursor: page.nextCursor },
      { headers: NO_STORE },
    );
  });
}

export function action() {
  return methodNotAllowed(["GET"]);
}
