import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { prisma } from "~/db.server";
import { getOAuthApp } from "~/models/oauth-client.server";
import { presentApiOAuthApp } from "~/presenters/ApiOAuthAppPresenter.server";
import { problem, readJson, validationProblem } from "~/services/api/problem.server";
import {
  WebhookSettingsSchema,
  clearWebhookSecret,
  revealWebhookSecret,
  rotateWebhookSecret,
  saveWebhookSettings,
} from "~/services/oauth/oauth-apps.server";
import { requireApiOwnedOAuthApp } from "~/services/oauth/require-owned-app.server";

const PutSchema = z
  .object({
    url: z.string().max(2048).nullable(),
    maxRetries: WebhookSettingsSchema.shape.maxRetries.optional(),
    timeoutSeconds: WebhookSettingsSchema.shape.timeoutSeconds.optional(),
  })
  .strict();

/** GET /api/v1/oauth-apps/:appId/webhook: the webhook settings (whether a secret is set, never the secret). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { app } = await requireApiOwnedOAuthApp(request, params);
  return Response.json(presentApiOAuthApp(app).webhook);
}

const SecretActionSchema = z.object({ action: z.enum(["rotate-secret", "reveal-secret", "clear-secret"]) }).strict();

/**
 * PUT /api/v1/oauth-apps/:appId/webhook — { url, maxRetries?, timeoutSeconds? }
 * POST …/webhook with {"action":"rotate-secret"} (returns the new secret), {"action":"reveal-secret"}
 * (returns the current one, asked for deliberately) or {"action":"clear-secret"}.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  if (request.method !== "POST" && request.method !== "PUT")
    return problem(405, "Method not allowed", "Use GET, PUT or POST.");
  const { userId, app } = await requireApiOwnedOAuthApp(request, params);
  const json = await readJson(request);
  if (!json.ok) return json.response;

  if (request.method === "POST") {
    const parsed = SecretActionSchema.safeParse(json.body);
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
  const parsed = PutSchema.safeParse(json.body);
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
