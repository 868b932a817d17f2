import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createCookie } from "@remix-run/node";
import { z } from "zod";
import { isHttps, requireSetting } from "~/env.server";
import { logger } from "~/logger.server";
import { outboundFetch } from "~/services/outbound.server";
import { providerSettings, type OAuth2Settings } from "./provider-settings.server";
import { connectIntegration, type ConnectResult } from "./run-integration.server";

/**
 * Echo as an OAuth 2.0 client of Linear, Slack and GitHub. The state (and PKCE verifier)
 * travels in a signed, httpOnly, 10-minute cookie bound to the user and the provider, and
 * is single use. Token exchange is a plain RFC 6749 form POST because each provider bends
 * the standard (GitHub answers form-encoded unless asked for JSON, Slack wraps errors in
 * `ok: false` with HTTP 200), which strict client libraries reject.
 */
const STATE_TTL_SECONDS = 600;

const stateCookie = createCookie("__echo_integration_oauth", {
  httpOnly: true,
  sameSite: "lax",
  secure: isHttps,
  path: "/integrations",
  maxAge: STATE_TTL_SECONDS,
  secrets: [requireSetting("SESSION_SECRET")],
});

const PendingConnectSchema = z.object({
  slug: z.string(),
  userId: z.string(),
  state: z.string(),
  verifier: z.string(),
  createdAt: z.number(),
});

export function callbackUrl(appUrl: string, slug: string): string {
  return `${appUrl.replace(/\/$/, "")}/integrations/${slug}/callback`;
}

export async function beginOAuth2Connect({
  userId,
  slug,
  scopes,
  redirectUri,
}: {
  userId: string;
  slug: string;
  scopes: string[];
  redirectUri: string;
}): Promise<{ ok: true; authorizeUrl: string; setCookie: string } | { ok: false; error: string }> {
  const settings = providerSettings(slug).oauth2;
  if (!settings) return { ok: false, error: `This integration is not configured on this Echo.` };
  const state = randomBytes(24).toString("base64url");
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(settings.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", settings.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set(slug === "slack" ? "user_scope" : "scope", scopes.join(slug === "github" ? " " : ","));
  url.searchParams.set("state", state);
  if (settings.usesPkce) {
    url.searchParams.set("code_challenge", createHash("sha256").update(verifier).digest("base64url"));
    url.searchParams.set("code_challenge_method", "S256");
  }
  const setCookie = await stateCookie.serialize({ slug, userId, state, verifier, createdAt: Date.now() });
  return { ok: true, authorizeUrl: url.toString(), setCookie };
}

const TokenResponseSchema = z
  .object({
    access_token: z.string().optional(),
    refresh_token: z.string().optional(),
    expires_in: z.coerce.number().optional(),
    scope: z.string().optional(),
    error: z.string().optional(),
    error_description: z.string().optional(),
    ok: z.boolean().optional(),
    authed_user: z.object({ access_token: z.string().optional(), scope: z.string().optional() }).optional(),
  })
  .loose();

async function exchangeCode(
  settings: OAuth2Settings,
  { code, redirectUri, verifier }: { code: string; redirectUri: string; verifier: string },
) {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    client_id: settings.clientId,
    client_secret: settings.clientSecret,
    ...(settings.usesPkce ? { code_verifier: verifier } : {}),
  });
  let response: Response;
  try {
    response = await outboundFetch(settings.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    logger.warn({ err: error, tokenUrl: settings.tokenUrl }, "Integration token endpoint unreachable");
    return { ok: false as const, error: "The provider could not be reached to finish connecting. Try again." };
  }
  const parsed = TokenResponseSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success)
    return {
      ok: false as const,
      error: `The provider answered the token request unexpectedly (HTTP ${response.status}).`,
    };
  const token = parsed.data;
  const accessToken = token.access_token ?? token.authed_user?.access_token;
  if (!response.ok || token.error || token.ok === false || !accessToken) {
    const reason = [token.error, token.error_description].filter(Boolean).join(": ") || `HTTP ${response.status}`;
    return { ok: false as const, error: `The provider refused to connect: ${reason}.` };
  }
  return {
    ok: true as const,
    input: {
      kind: "oauth2" as const,
      accessToken,
      refreshToken: token.refresh_token,
      expiresAt: token.expires_in ? new Date(Date.now() + token.expires_in * 1000).toISOString() : undefined,
      scope: token.scope ?? token.authed_user?.scope,
    },
  };
}

/** What a provider appends to the callback URL (RFC 6749 §4.1.2); anything else is ignored. */
const CallbackQuerySchema = z.object({
  state: z.string().max(512).optional(),
  code: z.string().min(1).max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The callback: checks state, exchanges the code, then SETUP → account. Always clears the state cookie. */
export async function completeOAuth2Connect({
  request,
  userId,
  slug,
  redirectUri,
}: {
  request: Request;
  userId: string;
  slug: string;
  redirectUri: string;
}): Promise<{ result: ConnectResult; clearCookie: string }> {
  const clearCookie = await stateCookie.serialize("", { maxAge: 0 });
  const fail = (error: string, status = 400): { result: ConnectResult; clearCookie: string } => ({
    result: { ok: false, status, error },
    clearCookie,
  });
  const query = CallbackQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return fail("The provider's answer was malformed. Start again from Integrations.");
  const params = query.data;
  const pending = PendingConnectSchema.safeParse(await stateCookie.parse(request.headers.get("Cookie")));
  if (!pending.success)
    return fail("This connection attempt expired or was already used. Start again from Integrations.");
  const { state, verifier, createdAt } = pending.data;
  if (pending.data.userId !== userId || pending.data.slug !== slug)
    return fail("This connection attempt belongs to another session.");
  if (Date.now() - createdAt > STATE_TTL_SECONDS * 1000) return fail("This connection attempt expired. Start again.");
  if (!sameString(params.state ?? "", state))
    return fail("The provider's answer did not match this connection attempt.");
  const providerError = params.error;
  if (providerError) {
    const description = params.error_description;
    return fail(
      providerError === "access_denied"
        ? "You declined the connection at the provider."
        : `The provider said: ${description ?? providerError}.`,
    );
  }
  const code = params.code;
  if (!code) return fail("The provider did not send an authorization code.");
  const settings = providerSettings(slug).oauth2;
  if (!settings) return fail("This integration is not configured on this Echo.", 404);

  const exchanged = await exchangeCode(settings, { code, redirectUri, verifier });
  if (!exchanged.ok) return fail(exchanged.error, 502);
  return { result: await connectIntegration({ userId, slug, input: exchanged.input }), clearCookie };
}
