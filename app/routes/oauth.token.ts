import type { ActionFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { consumeRateLimit } from "~/services/rate-limit.server";
import { exchangeToken } from "~/services/oauth/authorization-server.server";

export async function action({ request, context }: ActionFunctionArgs) {
  const limited = await consumeRateLimit(prisma, {
    key: `oauth-token:${context.clientAddress}`,
    limit: 120,
    windowSeconds: 60,
  });
  if (!limited.allowed) {
    return Response.json(
      { error: "slow_down", error_description: "Too many token requests; try again shortly." },
      {
        status: 429,
        headers: { "Retry-After": String(limited.retryAfterSeconds), "Cache-Control": "no-store", Pragma: "no-cache" },
      },
    );
  }
  const result = await exchangeToken(request);
  return Response.json(result.body, { status: result.status, headers: result.headers });
}

export const loader = () =>
  Response.json(
    { error: "invalid_request", error_description: "Use POST." },
    { status: 405, headers: { Allow: "POST" } },
  );
