import { z } from "zod";
import type { getOAuthApp } from "~/models/oauth-client.server";

type App = NonNullable<Awaited<ReturnType<typeof getOAuthApp>>>;

const IsoDateTime = z.iso.datetime({ offset: true });

export const ApiOAuthAppWebhookSchema = z
  .object({
    url: z.string().nullable(),
    hasSecret: z.boolean().meta({ description: "Whether a signing secret is set; the secret itself is never shown." }),
    maxRetries: z.number().int(),
    timeoutSeconds: z.number().int(),
    disabledAt: IsoDateTime.nullable(),
    disabledReason: z.string().nullable(),
  })
  .meta({ id: "OAuthAppWebhook" });

/** An OAuth app as the JSON API shows it: never a secret, only whether one is set. */
export const ApiOAuthAppSchema = z
  .object({
    id: z.string(),
    clientId: z.string(),
    name: z.string(),
    clientType: z.enum(["CONFIDENTIAL", "PUBLIC"]),
    redirectUris: z.array(z.string()),
    allowedScopes: z.array(z.string()),
    webhook: ApiOAuthAppWebhookSchema,
    createdAt: IsoDateTime,
  })
  .meta({ id: "OAuthApp" });

export function presentApiOAuthApp(app: App): z.output<typeof ApiOAuthAppSchema> {
  return {
    id: app.id,
    clientId: app.clientId,
    name: app.name,
    clientType: app.clientType,
    redirectUris: app.redirectUris,
    allowedScopes: app.allowedScopes,
    webhook: {
      url: app.webhookUrl,
      hasSecret: Boolean(app.webhookSecret),
      maxRetries: app.webhookMaxRetries,
      timeoutSeconds: Math.round(app.webhookTimeoutMs / 1000),
      disabledAt: app.webhookDisabledAt?.toISOString() ?? null,
      disabledReason: app.webhookDisabledReason,
    },
    createdAt: app.createdAt.toISOString(),
  };
}
