import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Database } from "~/db.server";
import { env, isHttps } from "~/env.server";
import { SUPPORTED_SCOPES, isAcceptableRedirectUri } from "~/lib/oauth-scopes";
import { MAX_RETRIES } from "~/lib/webhooks/retry-policy";
import { generateWebhookSecret } from "~/lib/webhooks/secrets";
import { parseWebhookUrl } from "~/lib/webhooks/outbound-url";
import { getOAuthApp } from "~/models/oauth-client.server";
import { decryptAtRest, encryptAtRest } from "~/services/encryption.server";
import { dispatchEventsOf } from "~/services/webhooks/publish.server";
import { grantEventSource, recordGrantEvent } from "./grant-events.server";
import { hashToken, randomToken } from "./tokens.server";

export const WEBHOOK_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export const OAuthAppInputSchema = z.object({
  name: z.string().trim().min(1, "Give the app a name").max(100, "Keep the name under 100 characters"),
  clientType: z.enum(["CONFIDENTIAL", "PUBLIC"]),
  redirectUris: z
    .array(z.string().trim().min(1))
    .min(1, "Add at least one redirect URI")
    .max(10, "At most 10 redirect URIs")
    .refine(
      (uris) => uris.every(isAcceptableRedirectUri),
      "Redirect URIs must be https, or http on 127.0.0.1, [::1] or localhost, without #fragments",
    ),
  allowedScopes: z
    .array(z.enum(SUPPORTED_SCOPES as [string, ...string[]], { message: "Unknown scope" }))
    .min(1, "Allow at least one scope"),
});
export type OAuthAppInput = z.infer<typeof OAuthAppInputSchema>;

export class AppNotFoundError extends Error {
  readonly status = 404;
  constructor() {
    super("No such OAuth app.");
  }
}

function newClientSecret() {
  const secret = randomToken("echo_cs_");
  return { secret, hash: hashToken(secret) };
}

/** Creates the app; the client secret (confidential apps) is returned once and stored hashed. */
export async function createOAuthApp(db: Database, ownerId: string, input: OAuthAppInput) {
  const secret = input.clientType === "CONFIDENTIAL" ? newClientSecret() : null;
  const app = await db.oAuthClient.create({
    data: {
      ...input,
      ownerId,
      clientId: `echo_app_${randomBytes(12).toString("hex")}`,
      clientSecretHash: secret?.hash ?? null,
      redirectUris: [...new Set(input.redirectUris)],
      allowedScopes: [...new Set(input.allowedScopes)],
    },
    select: { id: true, clientId: true },
  });
  return { ...app, clientSecret: secret?.secret ?? null };
}

export const OAuthAppUpdateSchema = OAuthAppInputSchema.omit({ clientType: true });

export async function updateOAuthApp(
  db: Database,
  ownerId: string,
  appId: string,
  input: z.infer<typeof OAuthAppUpdateSchema>,
): Promise<void> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  const allowedScopes = [...new Set(input.allowedScopes)];
  const dropped = existing.allowedScopes.filter((scope) => !allowedScopes.includes(scope));
  await db.$transaction(async (tx) => {
    await tx.oAuthClient.update({
      where: { id: existing.id },
      data: { ...input, redirectUris: [...new Set(input.redirectUris)], allowedScopes },
    });
    if (dropped.length === 0) return;
    // A scope the app may no longer ask for leaves the remembered consents, so adding it back
    // later asks each user again instead of silently re-granting it.
    const consents = await tx.oAuthConsent.findMany({
      where: { clientId: existing.id, scopes: { hasSome: dropped } },
      select: { id: true, scopes: true },
    });
    for (const consent of consents) {
      await tx.oAuthConsent.update({
        where: { id: consent.id },
        data: { scopes: consent.scopes.filter((scope) => !dropped.includes(scope)) },
      });
    }
    // Dropping `integration` from the allowed scopes ends the app's integration grants.
    if (dropped.includes("integration")) {
      await tx.oAuthIntegrationGrant.updateMany({
        where: { clientId: existing.id, isActive: true },
        data: { isActive: false, revokedAt: new Date() },
      });
    }
  });
}

export async function rotateClientSecret(db: Database, ownerId: string, appId: string): Promise<string> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  const secret = newClientSecret();
  await db.oAuthClient.update({
    where: { id: existing.id },
    data: { clientSecretHash: secret.hash, clientType: "CONFIDENTIAL" },
  });
  return secret.secret;
}

/** Deleting an app ends everything it was given: grants inactive, tokens revoked, consents gone. */
export async function deleteOAuthApp(db: Database, ownerId: string, appId: string): Promise<void> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  const now = new Date();
  const users = await db.$transaction(async (tx) => {
    await tx.oAuthClient.update({ where: { id: existing.id }, data: { deletedAt: now } });
    await tx.oAuthIntegrationGrant.updateMany({
      where: { clientId: existing.id, isActive: true },
      data: { isActive: false, revokedAt: now },
    });
    await tx.oAuthToken.updateMany({ where: { clientId: existing.id, revokedAt: null }, data: { revokedAt: now } });
    const consents = await tx.oAuthConsent.findMany({
      where: { clientId: existing.id },
      select: { userId: true, scopes: true },
    });
    await tx.oAuthConsent.deleteMany({ where: { clientId: existing.id } });
    // Every user who had approved the app hears that the grant ended.
    for (const consent of consents) {
      await recordGrantEvent(tx, {
        type: "oauth.grant.revoked",
        userId: consent.userId,
        client: { dbId: existing.id, clientId: existing.clientId, name: existing.name },
        scopes: consent.scopes,
      });
    }
    return consents.map((consent) => consent.userId);
  });
  for (const userId of users) await dispatchEventsOf(grantEventSource(existing.id, userId), { userId });
}

export const WebhookSettingsSchema = z.object({
  webhookUrl: z.string().trim().max(2048),
  maxRetries: z.coerce.number().int().min(0, "At least 0 retries").max(MAX_RETRIES, `At most ${MAX_RETRIES} retries`),
  timeoutSeconds: z.coerce.number().int().min(5, "At least 5 seconds").max(300, "At most 300 seconds"),
});

/** https is required when Echo itself runs in production over https, unless explicitly allowed. */
export function webhookUrlRequiresHttps(): boolean {
  return env.NODE_ENV === "production" && isHttps && !env.ALLOW_INSECURE_WEBHOOK_URLS;
}

export type WebhookSettingsResult = { ok: true } | { ok: false; fieldErrors: Record<string, string> };

export async function saveWebhookSettings(
  db: Database,
  ownerId: string,
  appId: string,
  input: z.infer<typeof WebhookSettingsSchema>,
): Promise<WebhookSettingsResult> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  let webhookUrl: string | null = null;
  if (input.webhookUrl) {
    const parsed = parseWebhookUrl(input.webhookUrl, {
      requireHttps: webhookUrlRequiresHttps(),
      allowlist: env.OUTBOUND_ALLOWED_HOSTS,
    });
    if (!parsed.ok) return { ok: false, fieldErrors: { webhookUrl: parsed.error } };
    webhookUrl = parsed.url.href;
  }
  await db.oAuthClient.update({
    where: { id: existing.id },
    data: {
      webhookUrl,
      webhookMaxRetries: input.maxRetries,
      webhookTimeoutMs: input.timeoutSeconds * 1000,
      // Saving the settings is the owner's answer to a disabled webhook: start afresh.
      webhookDisabledAt: null,
      webhookDisabledReason: null,
      webhookFailingSince: null,
    },
  });
  return { ok: true };
}

/** Generates the first secret, or rotates: the old one keeps signing for 24 hours. */
export async function rotateWebhookSecret(db: Database, ownerId: string, appId: string): Promise<string> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  const secret = generateWebhookSecret();
  await db.oAuthClient.update({
    where: { id: existing.id },
    data: {
      webhookSecret: encryptAtRest(secret),
      previousWebhookSecret: existing.webhookSecret,
      previousSecretExpiresAt: existing.webhookSecret ? new Date(Date.now() + WEBHOOK_SECRET_GRACE_MS) : null,
    },
  });
  return secret;
}

export async function clearWebhookSecret(db: Database, ownerId: string, appId: string): Promise<void> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  await db.oAuthClient.update({
    where: { id: existing.id },
    data: { webhookSecret: null, previousWebhookSecret: null, previousSecretExpiresAt: null },
  });
}

export async function revealWebhookSecret(db: Database, ownerId: string, appId: string): Promise<string | null> {
  const existing = await getOAuthApp(db, { id: appId, ownerId });
  if (!existing) throw new AppNotFoundError();
  return existing.webhookSecret ? decryptAtRest(existing.webhookSecret) : null;
}
