/** The scopes Echo's authorization server knows, with what each means to the user who grants it. */
export const OAUTH_SCOPES = {
  openid: "Confirm who you are on Echo",
  profile: "See your name",
  email: "See your email address",
  integration: "Be notified when you connect an integration, and see which integrations you connected",
} as const;

export type OAuthScope = keyof typeof OAUTH_SCOPES;
export const SUPPORTED_SCOPES = Object.keys(OAUTH_SCOPES) as OAuthScope[];

export function isSupportedScope(scope: string): scope is OAuthScope {
  return Object.hasOwn(OAUTH_SCOPES, scope);
}

/** Space-separated, deduplicated, in a stable order. */
export function parseScopeParam(value: string | null | undefined): string[] {
  return [...new Set((value ?? "").split(" ").filter(Boolean))];
}

/** Redirect URIs: exact strings; https, or http only on loopback (RFC 8252). */
export function isAcceptableRedirectUri(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || url.username || url.password) return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}
