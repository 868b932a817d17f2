import type { Database } from "~/db.server";
import { listConnectedAccounts } from "~/models/integration-account.server";
import { providerSettings } from "~/services/integrations/provider-settings.server";

/** The catalog (with whether each provider is configured here) and the user's connected accounts. */
export async function presentIntegrations(db: Database, userId: string) {
  const [definitions, accounts] = await Promise.all([
    db.integrationDefinition.findMany({
      orderBy: { name: "asc" },
      select: { slug: true, name: true, description: true, icon: true, authType: true, config: true },
    }),
    listConnectedAccounts(db, userId),
  ]);
  return {
    catalog: definitions.map((definition) => {
      const settings = providerSettings(definition.slug);
      const config = (definition.config ?? {}) as { keyLabel?: string; keyHelp?: string };
      return {
        slug: definition.slug,
        name: definition.name,
        description: definition.description,
        icon: definition.icon,
        authType: definition.authType,
        keyLabel: config.keyLabel ?? "API key",
        keyHelp: config.keyHelp ?? null,
        missingSettings: definition.authType === "OAUTH2" && !settings.oauth2 ? settings.missing : [],
      };
    }),
    accounts,
  };
}
