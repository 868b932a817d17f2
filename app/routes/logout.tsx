import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { endUserSession } from "~/services/auth/session.server";

export async function action({ request }: ActionFunctionArgs) {
  await requireValidCsrf(request, await request.formData());
  return endUserSession(request);
}

// Logging out changes state, so it is a POST; a GET just goes home.
export const loader = () => redirect("/");
