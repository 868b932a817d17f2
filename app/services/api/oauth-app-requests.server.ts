import { z } from "zod";
import { OAuthAppInputSchema, OAuthAppUpdateSchema, WebhookSettingsSchema } from "~/services/oauth/oauth-apps.server";

// Bodies of the /api/v1/oauth-apps routes, shared by the routes and their OpenAPI document.

export const OAuthAppCreateBodySchema = OAuthAppInputSchema.strict();

export const OAuthAppPatchBodySchema = OAuthAppUpdateSchema.partial().strict();

export const OAuthAppWebhookPutBodySchema = z
  .object({
    url: z.string().max(2048).nullable().meta({ description: "null stops webhooks." }),
    maxRetries: WebhookSettingsSchema.shape.maxRetries.optional(),
    timeoutSeconds: WebhookSettingsSchema.shape.timeoutSeconds.optional(),
  })
  .strict();

export const OAuthAppWebhookSecretActionSchema = z
  .object({ action: z.enum(["rotate-secret", "reveal-secret", "clear-secret"]) })
  .strict();
