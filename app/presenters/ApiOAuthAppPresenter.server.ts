import type { getOAuthApp } from "~/models/oauth-client.server";

type App = NonNullable<Awaited<ReturnType<typeof getOAuthApp>>>;

/** An OAuth app as the JSON API shows it: never a secret, only whether one is set. */
export function presentApiOAuthApp(app: App) {
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
      disabledAt: app.webhookDisabledAt,
      disabledReason: app.webhookDisabledReason,
    },
    createdAt: app.createdAt,
  };
}
