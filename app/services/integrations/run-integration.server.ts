import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import { INTEGRATION_MODULES } from "~/integrations/registry";
import type { IntegrationEvent, IntegrationMessage, SetupInput } from "~/integrations/types";
import { IntegrationEventType } from "~/integrations/types";
import { logger } from "~/logger.server";
import { findDefinitionBySlug } from "~/models/integration-account.server";
import { decryptAtRest, encryptAtRest } from "~/services/encryption.server";
import { outboundFetch } from "~/services/outbound.server";
import { handleAccountMessage } from "./handle-account-message.server";
import { providerSettings } from "./provider-settings.server";

/**
 * What the connect flow collected, sealed (AES-256-GCM, the at-rest key) for a task payload:
 * payloads are stored by the job engine and shown on Trigger.dev's dashboard, credentials must not be.
 */
export function sealSetupInput(input: SetupInput): string {
  return encryptAtRest(JSON.stringify(input));
}

const SetupInputSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("oauth2"),
    accessToken: z.string().min(1),
    refreshToken: z.string().optional(),
    expiresAt: z.string().optional(),
    scope: z.string().optional(),
    raw: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ kind: z.literal("api_key"), apiKey: z.string().min(1) }),
  z.object({ kind: z.literal("mcp"), url: z.string().min(1), token: z.string().optional() }),
]);

export function openSetupInput(sealed: string): SetupInput {
  return SetupInputSchema.parse(JSON.parse(decryptAtRest(sealed)));
}

export type ConnectResult =
  | { ok: true; integrationAccountId: string; displayName: string; reconnected: boolean }
  | { ok: false; status: number; error: string; field?: string };

/** Runs one integration module for one event; what `integration-run` executes. */
export async function runIntegrationEvent(slug: string, event: IntegrationEvent): Promise<IntegrationMessage[]> {
  const module = INTEGRATION_MODULES.get(slug);
  if (!module) return [{ type: "error", data: { message: `Echo has no integration called "${slug}".` } }];
  return module.handleEvent(event, { fetch: outboundFetch, apiUrl: providerSettings(slug).apiUrl });
}

/**
 * SETUP → messages → handleAccountMessage. An error message from the module becomes the
 * user's error, and nothing is written; an account message becomes exactly one account.
 */
export async function connectIntegration(
  { userId, slug, input }: { userId: string; slug: string; input: SetupInput },
  db: Database = prisma,
): Promise<ConnectResult> {
  const definition = await findDefinitionBySlug(db, slug);
  if (!definition) return { ok: false, status: 404, error: `Echo has no integration called "${slug}".` };

  let messages: IntegrationMessage[];
  try {
    messages = await runIntegrationEvent(slug, { type: IntegrationEventType.SETUP, userId, input });
  } catch (error) {
    logger.error({ err: error, slug, userId }, "Integration SETUP threw");
    return { ok: false, status: 502, error: `Connecting ${definition.name} failed unexpectedly. Try again.` };
  }
  const failure = messages.find((message) => message.type === "error");
  // 502 when the provider is in trouble (the task retries those), 400 when the input was refused.
  if (failure)
    return {
      ok: false,
      status: failure.data.retryable ? 502 : 400,
      error: failure.data.message,
      field: failure.data.field,
    };
  const account = messages.find((message) => message.type === "account");
  if (!account) return { ok: false, status: 502, error: `${definition.name} did not identify an account.` };

  const created = await handleAccountMessage({ userId, definition, message: account }, db);
  logger.info(
    { slug, userId, integrationAccountId: created.id, reconnected: created.reconnected },
    "Integration connected",
  );
  return {
    ok: true,
    integrationAccountId: created.id,
    displayName: account.data.displayName,
    reconnected: created.reconnected,
  };
}
