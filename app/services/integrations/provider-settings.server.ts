import { env } from "~/env.server";

export type OAuth2Settings = {
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** GitHub and Slack ignore PKCE; Linear supports it. Sending it never hurts, verifying needs support. */
  usesPkce: boolean;
};

export type ProviderSettings = { apiUrl: string; oauth2: OAuth2Settings | null; missing: string[] };

function oauth2(
  prefix: "LINEAR" | "SLACK" | "GITHUB",
  usesPkce: boolean,
): { oauth2: OAuth2Settings | null; missing: string[] } {
  const clientId = env[`${prefix}_CLIENT_ID`];
  const clientSecret = env[`${prefix}_CLIENT_SECRET`];
  const missing = [!clientId && `${prefix}_CLIENT_ID`, !clientSecret && `${prefix}_CLIENT_SECRET`].filter(
    Boolean,
  ) as string[];
  if (!clientId || !clientSecret) return { oauth2: null, missing };
  return {
    oauth2: {
      clientId,
      clientSecret,
      authorizeUrl: env[`${prefix}_AUTHORIZE_URL`],
      tokenUrl: env[`${prefix}_TOKEN_URL`],
      usesPkce,
    },
    missing,
  };
}

/** Where each integration's provider lives, from the environment (so tests can use stand-ins). */
export function providerSettings(slug: string): ProviderSettings {
  switch (slug) {
    case "linear":
      return { apiUrl: env.LINEAR_API_URL, ...oauth2("LINEAR", true) };
    case "slack":
      return { apiUrl: env.SLACK_API_URL, ...oauth2("SLACK", false) };
    case "github":
      return { apiUrl: env.GITHUB_API_URL, ...oauth2("GITHUB", false) };
    case "postmark":
      return { apiUrl: env.POSTMARK_API_URL, oauth2: null, missing: [] };
    default:
      return { apiUrl: "", oauth2: null, missing: [] };
  }
}
