import type { ActionFunctionArgs } from "@remix-run/node";
import { revokeTokenRequest } from "~/services/oauth/authorization-server.server";

export async function action({ request }: ActionFunctionArgs) {
  const result = await revokeTokenRequest(request);
  return Response.json(result.body, { status: result.status, headers: result.headers });
}

export const loader = () =>
  Response.json(
    { error: "invalid_request", error_description: "Use POST." },
    { status: 405, headers: { Allow: "POST" } },
  );
