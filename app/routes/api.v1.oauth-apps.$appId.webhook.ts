import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { prisma } from "~/db.server";
import { getOAuthApp } from "~/models/oauth-client.server";
import { presentApiOAuthApp } from "~/presenters/ApiOAuthAppPresenter.server";
import { requireApiUser } from "~/services/api/authenticate.server";
import { problem, readJson, validationProblem } from "~/services/api/problem.server";
import {
  WebhookSettingsSchema,
  clearWebhookSecret,
  rotateWebhookSecret,
  saveWebhookSettings,
} from "~/services/oauth/oauth-apps.server";

const PutSchema = z
  .object({
    url: z.string().max(2048).nullable(),
    maxRetries: WebhookSettingsSchema.shape.maxRetries.optional(),
    timeoutSeconds: WebhookSettingsSchema.shape.timeoutSeconds.optional(),
  })
  .strict();

/**
 * PUT /api/v1/oauth-apps/:appId/webhook — { url, maxRetries?, timeoutSeconds? }
 * POST …/webhook with {"action":"rotate-secret"} (returns the new secret once) or {"action":"clear-secret"}.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  const { userId } = await requireApiUser(request);
  const { appId } = z.object({ appId: z.string().min(1).max(100) }).parse(params);
  const app = await getOAuthApp(prisma, { id: appId, ownerId: userId });
  if (!app) return problem(404, "Not found", "No OAuth app with this id belongs to you.");
  const json = await readJson(request);
  if (!json.ok) return json.response;

  if (request.method === "POST") {
    const parsed = z
      .object({ action: z.enum(["rotate-secret", "clear-secret"]) })
      .strict()
      .safeParse(json.body);
    if (!parsed.success) return validationProblem(parsed.error);
    if (parsed.data.action === "clear-secret") {
      await clearWebhookSecret(prisma, userId, app.id);
      return new Response(null, { status: 204 });
    }
    return Response.json({ secret: await rotateWebhookSecret(prisma, userId, app.id) });
  }
  if (request.method !== "PUT") return problem(405, "Method not allowed", "Use PUT or POST.");
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
