import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { prisma } from "~/db.server";
import { getOAuthApp } from "~/models/oauth-client.server";
import { presentApiOAuthApp } from "~/presenters/ApiOAuthAppPresenter.server";
import {
  OAuthAppWebhookPutBodySchema,
  OAuthAppWebhookSecretActionSchema,
} from "~/services/api/oauth-app-requests.server";
import { methodNotAllowed, problem, readJson, validationProblem } from "~/services/api/problem.server";
import {
  clearWebhookSecret,
  revealWebhookSecret,
  rotateWebhookSecret,
  saveWebhookSettings,
} from "~/services/oauth/oauth-apps.server";
import { requireApiOwnedOAuthApp } from "~/services/oauth/require-owned-app.server";

/** GET /api/v1/oauth-apps/:appId/webhook: the webhook settings (whether a secret is set, never the secret). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { app } = await requireApiOwnedOAuthApp(request, params);
  return Response.json(presentApiOAuthApp(app).webhook);
}

/**
 * PUT /api/v1/oauth-apps/:appId/webhook — { url, maxRetries?, timeoutSeconds? }
 * POST …/webhook with {"action":"rotate-secret"} (returns the new secret), {"action":"reveal-secret"}
 * (returns the current one, asked for deliberately) or {"action":"clear-secret"}.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST" && request.method !== "PUT") return methodNotAllowed(["GET", "PUT", "POST"]);
  const { userId, app } = await requireApiOwnedOAuthApp(request, params);
  const json = await readJson(request);
  if (!json.ok) return json.response;

  if (request.method === "POST") {
    const parsed = OAuthAppWebhookSecretActionSchema.safeParse(json.body);
    if (!parsed.success) return validationProblem(parsed.error);
    switch (parsed.data.action) {
      case "clear-secret":
        await clearWebhookSecret(prisma, userId, app.id);
        return new Response(null, { status: 204 });
      case "reveal-secret":
        return Response.json(
          { secret: await revealWebhookSecret(prisma, userId, app.id) },
          { headers: { "Cache-Control": "no-store" } },
        );
      case "rotate-secret":
        return Response.json(
          { secret: await rotateWebhookSecret(prisma, userId, app.id) },
          { headers: { "Cache-Control": "no-store" } },
        );
    }
  }
  const parsed = OAuthAppWebhookPutBodySchema.safeParse(json.body);
  if (!parsed.success) return validationProblem(parsed.error);
  const result = await saveWebhookSettings(prisma, userId, app.id, {
    webhookUrl: parsed.data.url ?? "",
    maxRetries: parsed.data.maxRetries ?? app.webhookMaxRetries,
    timeoutSeconds: parsed.data.timeoutSeconds ?? Math.round(app.webhookTimeoutMs / 1000),
  });
  if (!result.ok) {
    return problem(400, "Invalid request", result.fieldErrors.webhookUrl, {
      errors: [{ field: "url", message: result.fieldErrors.webhookUrl }],
    });
  }
  return Response.json(presentApiOAuthApp((await getOAuthApp(prisma, { id: app.id, ownerId: userId }))!));
}
