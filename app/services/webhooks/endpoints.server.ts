import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import { env } from "~/env.server";
import { EventTypeNameSchema } from "~/lib/events/catalog";
import { CustomHeadersSchema, isSensitiveHeaderName, REDACTED, type CustomHeaders } from "~/lib/webhooks/headers";
import { parseWebhookUrl } from "~/lib/webhooks/outbound-url";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, DeliverySettingsSchema } from "~/lib/webhooks/retry-policy";
import { generateWebhookSecret, isValidWebhookSecret, WEBHOOK_SECRET_PREFIX } from "~/lib/webhooks/secrets";
import { endpointSelect, getEndpoint, type EndpointActor, type EndpointRecord } from "~/models/webhook-endpoint.server";
import { decryptAtRest, encryptAtRest } from "~/services/encryption.server";
import { WEBHOOK_SECRET_GRACE_MS, webhookUrlRequiresHttps } from "~/services/oauth/oauth-apps.server";
import { ServiceError } from "~/services/service-error.server";
import { openCustomHeaders, sealCustomHeaders } from "./custom-headers.server";
import { checkSubscription } from "./event-types.server";
import {
  endpointDisabledEvent,
  endpointEnabledEvent,
  operationalEventSource,
  secretRotatedEvent,
} from "./operational-events.server";
import { dispatchEventsOf, recordEvents } from "./publish.server";
import { triggerDeliveryRunsFromRequest } from "./integration-fanout.server";
import { manualRetryKey } from "./retry-delivery.server";

export const MAX_ENDPOINTS_PER_USER = 10;
/** The issue's limit: excess deliveries wait in the queue for the next minute, never dropped. */
export const ENDPOINT_DELIVERIES_PER_MINUTE = 100;

const NameSchema = z.string().trim().min(1, "Give the endpoint a name").max(100, "Keep the name under 100 characters");
const UrlSchema = z.string().trim().min(1, "Enter a URL").max(2048, "URLs are at most 2048 characters");
const SecretSchema = z
  .string()
  .trim()
  .refine(
    isValidWebhookSecret,
    `A secret is "${WEBHOOK_SECRET_PREFIX}" followed by 24 to 64 random bytes in base64; leave it out to have one generated`,
  );
/** Names of the catalog's types; that each exists (and is not archived) is checked against the catalog. */
const EventTypesSchema = z
  .array(EventTypeNameSchema)
  .max(50, "At most 50 event types")
  .transform((types) => [...new Set(types)]);

/** Everything an endpoint is made of, as the API takes it; `eventTypes: []` means every event. */
export const EndpointCreateSchema = z
  .object({
    name: NameSchema,
    url: UrlSchema,
    secret: SecretSchema.optional(),
    eventTypes: EventTypesSchema.default([]),
    enabled: z.boolean().default(true),
    customHeaders: CustomHeadersSchema.default({}),
    maxRetries: DeliverySettingsSchema.shape.maxRetries,
    retryBaseDelayMs: DeliverySettingsSchema.shape.retryBaseDelayMs,
    timeoutMs: DeliverySettingsSchema.shape.timeoutMs,
  })
  .strict();
export type EndpointCreateInput = z.input<typeof EndpointCreateSchema>;

export const EndpointUpdateSchema = z
  .object({
    name: NameSchema,
    url: UrlSchema,
    eventTypes: EventTypesSchema,
    enabled: z.boolean(),
    customHeaders: CustomHeadersSchema,
    maxRetries: DeliverySettingsSchema.shape.maxRetries.removeDefault(),
    retryBaseDelayMs: DeliverySettingsSchema.shape.retryBaseDelayMs.removeDefault(),
    timeoutMs: DeliverySettingsSchema.shape.timeoutMs.removeDefault(),
  })
  .partial()
  .strict()
  .refine((input) => Object.keys(input).length > 0, "Send at least one field to change");
export type EndpointUpdateInput = z.input<typeof EndpointUpdateSchema>;

export const ENDPOINT_DEFAULTS = { maxRetries: DEFAULT_MAX_RETRIES, timeoutMs: DEFAULT_TIMEOUT_MS } as const;

function checkUrl(url: string): string {
  const parsed = parseWebhookUrl(url, {
    requireHttps: webhookUrlRequiresHttps(),
    allowlist: env.OUTBOUND_ALLOWED_HOSTS,
  });
  if (!parsed.ok) throw new ServiceError(parsed.error, 400, "url");
  return parsed.url.href;
}

async function requireEndpoint(db: Database, actor: EndpointActor, id: string): Promise<EndpointRecord> {
  const endpoint = await getEndpoint(db, actor, id);
  if (!endpoint) throw new ServiceError("No such endpoint.", 404);
  return endpoint;
}

/** Creates an endpoint, with a generated `whsec_` secret unless one is supplied; at most 10 per user. */
export async function createEndpoint(
  actor: EndpointActor,
  input: z.output<typeof EndpointCreateSchema>,
  db: Database = prisma,
): Promise<EndpointRecord> {
  const url = checkUrl(input.url);
  await checkSubscription(input.eventTypes, { byOAuthApp: Boolean(actor.oauthClientId) }, db);
  const secret = input.secret ?? generateWebhookSecret();
  return db.$transaction(async (tx) => {
    // Two concurrent creates must not both see nine endpoints.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`echo-endpoints:${actor.userId}`}))`;
    const count = await tx.webhookEndpoint.count({ where: { ownerId: actor.userId } });
    if (count >= MAX_ENDPOINTS_PER_USER) {
      throw new ServiceError(
        `You can have at most ${MAX_ENDPOINTS_PER_USER} endpoints; delete one before adding another.`,
        409,
      );
    }
    return tx.webhookEndpoint.create({
      data: {
        ownerId: actor.userId,
        oauthClientId: actor.oauthClientId ?? null,
        name: input.name,
        url,
        secret: encryptAtRest(secret),
        eventTypes: input.eventTypes,
        enabled: input.enabled,
        customHeaders: sealCustomHeaders(input.customHeaders),
        maxRetries: input.maxRetries,
        retryBaseDelayMs: input.retryBaseDelayMs,
        timeoutMs: input.timeoutMs,
        rateLimitPerMinute: ENDPOINT_DELIVERIES_PER_MINUTE,
      },
      select: endpointSelect,
    });
  });
}

/**
 * Changes what is sent; saving is also the owner's answer to an endpoint Echo disabled: it starts
 * afresh. An endpoint that starts or stops receiving (switched on or off, or saved after Echo
 * disabled it) raises endpoint.enabled or endpoint.disabled, in the same transaction.
 */
export async function updateEndpoint(
  actor: EndpointActor,
  id: string,
  input: z.output<typeof EndpointUpdateSchema>,
  db: Database = prisma,
): Promise<EndpointRecord> {
  const existing = await requireEndpoint(db, actor, id);
  const url = input.url === undefined ? undefined : checkUrl(input.url);
  if (input.eventTypes !== undefined)
    await checkSubscription(
      input.eventTypes,
      { previous: existing.eventTypes, byOAuthApp: Boolean(existing.oauthClientId) },
      db,
    );
  const customHeaders =
    input.customHeaders === undefined
      ? undefined
      : sealCustomHeaders(keepRedactedValues(input.customHeaders, openCustomHeaders(existing.customHeaders)));
  const updated = await db.$transaction(async (tx) => {
    // Locked, so two saves at once see each other's state and raise one event, not two.
    const [before] = await tx.$queryRaw<{ enabled: boolean; disabledAt: Date | null }[]>`
      SELECT enabled, "disabledAt" FROM "WebhookEndpoint" WHERE id = ${existing.id} FOR UPDATE`;
    const endpoint = await tx.webhookEndpoint.update({
      where: { id: existing.id },
      data: {
        ...input,
        url,
        customHeaders,
        disabledAt: null,
        disabledReason: null,
        failingSince: null,
      },
      select: endpointSelect,
    });
    const wasReceiving = Boolean(before?.enabled && !before.disabledAt);
    const at = new Date();
    if (wasReceiving && !endpoint.enabled) {
      await recordEvents(tx, [
        endpointDisabledEvent(endpoint, { reason: "Its owner switched it off.", by: "owner", at }),
      ]);
      return { endpoint, raised: true };
    }
    if (!wasReceiving && endpoint.enabled) {
      const reason = before?.disabledAt
        ? "Its owner saved its settings after Echo had disabled it."
        : "Its owner switched it on.";
      await recordEvents(tx, [endpointEnabledEvent(endpoint, { reason, at })]);
      return { endpoint, raised: true };
    }
    return { endpoint, raised: false };
  });
  if (updated.raised) await dispatchEventsOf(operationalEventSource(existing.id), { endpointId: existing.id });
  return updated.endpoint;
}

/**
 * The API shows credential-looking header values as "[redacted]"; a client that sends the
 * headers back as it read them keeps the stored values rather than overwriting them with
 * the placeholder.
 */
function keepRedactedValues(headers: CustomHeaders, stored: Record<string, string>): CustomHeaders {
  const previous = new Map(Object.entries(stored).map(([name, value]) => [name.toLowerCase(), value]));
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const kept = previous.get(name.toLowerCase());
      return [name, value === REDACTED && isSensitiveHeaderName(name) && kept !== undefined ? kept : value];
    }),
  );
}

/** Deletes the endpoint and its delivery log; runs still queued for it find nothing to send. */
export async function deleteEndpoint(actor: EndpointActor, id: string, db: Database = prisma): Promise<void> {
  const existing = await requireEndpoint(db, actor, id);
  await db.webhookEndpoint.delete({ where: { id: existing.id } });
}

/** A new secret (generated, or the one supplied); the old one keeps signing for 24 hours. */
export async function rotateEndpointSecret(
  actor: EndpointActor,
  id: string,
  supplied: string | undefined,
  db: Database = prisma,
): Promise<{ secret: string; previousSecretExpiresAt: Date }> {
  const existing = await requireEndpoint(db, actor, id);
  const secret = supplied ?? generateWebhookSecret();
  const at = new Date();
  const previousSecretExpiresAt = new Date(at.getTime() + WEBHOOK_SECRET_GRACE_MS);
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.update({
      where: { id: existing.id },
      data: { secret: encryptAtRest(secret), previousSecret: existing.secret, previousSecretExpiresAt },
    });
    await recordEvents(tx, [secretRotatedEvent(existing, { previousSecretExpiresAt, at })]);
  });
  await dispatchEventsOf(operationalEventSource(existing.id), { endpointId: existing.id });
  return { secret, previousSecretExpiresAt };
}
export const RotateSecretSchema = z.object({ secret: SecretSchema.optional() }).strict();

export async function revealEndpointSecret(actor: EndpointActor, id: string, db: Database = prisma): Promise<string> {
  const existing = await requireEndpoint(db, actor, id);
  return decryptAtRest(existing.secret);
}

/** Paused: new deliveries are created and wait; nothing is sent until it is resumed. */
export async function pauseEndpoint(actor: EndpointActor, id: string, db: Database = prisma): Promise<EndpointRecord> {
  const existing = await requireEndpoint(db, actor, id);
  if (existing.pausedAt) return existing;
  return db.webhookEndpoint.update({
    where: { id: existing.id },
    data: { pausedAt: new Date() },
    select: endpointSelect,
  });
}

/** Resumes sending: every delivery that waited goes out, retries keep their schedule. */
export async function resumeEndpoint(actor: EndpointActor, id: string, db: Database = prisma): Promise<EndpointRecord> {
  const existing = await requireEndpoint(db, actor, id);
  if (!existing.pausedAt) return existing;
  const resumedAt = Date.now();
  const updated = await db.webhookEndpoint.update({
    where: { id: existing.id },
    data: { pausedAt: null },
    select: endpointSelect,
  });
  await requeueOpenDeliveries(
    db,
    existing.id,
    `resume:${resumedAt}`,
    "The endpoint is resumed, but the job queue is not answering right now; the deliveries that waited will be sent once it answers.",
  );
  return updated;
}

const REQUEUE_BATCH = 1000;

async function requeueOpenDeliveries(
  db: Database,
  endpointId: string,
  reason: string,
  outageMessage: string,
): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  for (;;) {
    const open = await db.webhookDelivery.findMany({
      where: { endpointId, status: { in: ["PENDING", "RETRYING"] }, ...(cursor ? { id: { gt: cursor } } : {}) },
      orderBy: { id: "asc" },
      take: REQUEUE_BATCH,
      select: { id: true, nextAttemptAt: true },
    });
    if (open.length === 0) return total;
    const now = Date.now();
    await triggerDeliveryRunsFromRequest(
      open.map((delivery) => ({
        id: delivery.id,
        oauthClientId: null,
        endpointId,
        delayMs: Math.max(0, (delivery.nextAttemptAt?.getTime() ?? now) - now),
      })),
      (deliveryId) => `delivery:${deliveryId}:${reason}`,
      outageMessage,
    );
    total += open.length;
    cursor = open[open.length - 1]?.id;
    if (open.length < REQUEUE_BATCH) return total;
  }
}

export const RetryFailedSchema = z
  .object({
    since: z.iso.datetime({ offset: true, message: "`since` is an ISO 8601 date-time, e.g. 2026-01-15T09:30:00Z" }),
  })
  .strict();

/**
 * Recover after an outage: every FAILED delivery of the endpoint created since `since` gets
 * one more attempt, now. Returns how many were queued.
 */
export async function retryFailedDeliveries(
  actor: EndpointActor,
  id: string,
  since: Date,
  db: Database = prisma,
): Promise<{ queued: number }> {
  const existing = await requireEndpoint(db, actor, id);
  if (since.getTime() > Date.now()) throw new ServiceError("`since` is in the future.", 400, "since");
  // Part of each run's key, so that a run left over from an earlier reopening cannot stand in for this one.
  const reopenedAt = new Date();
  const reopened = await db.$queryRaw<{ id: string; attemptCount: number }[]>`
    UPDATE "WebhookDelivery"
    SET status = 'RETRYING', "maxAttempts" = "attemptCount" + 1, "nextAttemptAt" = now(), "completedAt" = NULL,
        "updatedAt" = now()
    WHERE "endpointId" = ${existing.id} AND status = 'FAILED' AND "createdAt" >= ${since}
    RETURNING id, "attemptCount"`;
  const attemptsById = new Map(reopened.map((row) => [row.id, row.attemptCount]));
  const n = reopened.length;
  for (let start = 0; start < reopened.length; start += REQUEUE_BATCH) {
    await triggerDeliveryRunsFromRequest(
      reopened.slice(start, start + REQUEUE_BATCH).map((row) => ({ id: row.id, oauthClientId: null, endpointId: id })),
      (deliveryId) => manualRetryKey(deliveryId, (attemptsById.get(deliveryId) ?? 0) + 1, reopenedAt),
      `${n} failed ${n === 1 ? "delivery is" : "deliveries are"} queued for one more attempt, but the job queue is not answering right now; ${n === 1 ? "it" : "they"} will be sent once it answers, with no need to retry again.`,
    );
  }
  return { queued: reopened.length };
}
