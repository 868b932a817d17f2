import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import stableStringify from "safe-stable-stringify";
import { z } from "zod";
import { findPool, prisma, type Database } from "~/db.server";
import type { Prisma } from "~/generated/prisma/client";
import {
  EventTypeNameSchema,
  isEventType,
  parseEventPayload,
  publicEventId,
  type EventPayload,
  type EventType,
} from "~/lib/events/catalog";
import { logger } from "~/logger.server";
import { findUserById } from "~/models/user.server";
import { sql, sqlOn, sqlTransaction, type SqlRunner } from "~/services/database/sql.server";
import { runPeriodically } from "~/services/jobs/periodic.server";
import { ServiceError, type FieldIssue } from "~/services/service-error.server";
import { forgetActiveEventType, resolveCustomEventTypes, type ResolvedEventType } from "./event-types.server";
import { usesTriggerDev } from "~/services/jobs.server";
import { TASK_RUN_CHANNEL } from "~/services/jobs/task-runs.server";
import { dispatchPendingEvents, embeddedFanOutRunsSql } from "./outbox-dispatcher.server";

/**
 * The one way into Echo's outbox. Every event, whoever raises it (an integration connecting, a
 * grant, a test send, the delivery pipeline's operational events, a producer calling
 * POST /api/v1/events), is checked against its type here and written as a WebhookEvent row; the
 * outbox dispatcher then hands it to the fan-out, which delivers it to every subscribed endpoint
 * with the same signatures, retries, rate limits and log. Echo's own types are checked with
 * their zod schemas, custom types with their JSON Schemas.
 */

/** Receivers should never have to accept more; Svix and Stripe draw the line in the same place. */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;
/** How long an Idempotency-Key stands for the event it made. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
/** The most events one batch publish takes. */
export const MAX_BATCH_EVENTS = 100;

export class EventTooLargeError extends Error {
  readonly status = 413;
  constructor(bytes: number) {
    super(`The event payload is ${bytes} bytes; Echo sends at most ${MAX_EVENT_BODY_BYTES} bytes (256 KB).`);
    this.name = "EventTooLargeError";
  }
}

function payloadBytes(payload: unknown): number {
  return Buffer.byteLength(JSON.stringify(payload));
}

export function assertEventBodySize(payload: unknown): void {
  const bytes = payloadBytes(payload);
  if (bytes > MAX_EVENT_BODY_BYTES) throw new EventTooLargeError(bytes);
}

/** A built-in type's payload as it is stored: valid for its schema and within the size limit. Throws otherwise. */
export function checkedEventPayload<T extends EventType>(type: T, payload: EventPayload<T>): EventPayload<T> {
  const parsed = parseEventPayload(type, payload);
  assertEventBodySize(parsed);
  return parsed;
}

/** A WebhookEvent row about to be written. */
export type OutboxEvent = {
  id: string;
  type: string;
  userId: string | null;
  source: string;
  payload: unknown;
  createdAt: Date;
  /** False: the caller delivers it itself (a test send), so the dispatcher has nothing to hand over. */
  fanOut: boolean;
};

/** An event of one of Echo's own types, checked, as the outbox stores it. Throws when the payload is wrong. */
export function builtInEvent<T extends EventType>(
  userId: string | null,
  type: T,
  payload: EventPayload<T>,
  { source, occurredAt = new Date(), id = randomUUID(), fanOut = true }: BuiltInOptions,
): OutboxEvent {
  return { id, type, userId, source, payload: checkedEventPayload(type, payload), createdAt: occurredAt, fanOut };
}

type BuiltInOptions = {
  /** Events of one source are handed over together (`dispatchEventsOf`). */
  source: string;
  occurredAt?: Date;
  /** A fixed id makes writing the event twice harmless (operational events). */
  id?: string;
  fanOut?: boolean;
};

/** Where rows are written: a Prisma client or transaction client, or a pg client inside sqlTransaction. */
type OutboxTarget = Database | Prisma.TransactionClient | SqlRunner;

function isSqlRunner(target: OutboxTarget): target is SqlRunner {
  return !("$queryRawUnsafe" in target);
}

async function query<Row extends object>(target: OutboxTarget, text: string, values: unknown[]): Promise<Row[]> {
  if (isSqlRunner(target)) return (await sql<Row>(target, text, values)).rows;
  // A transaction client has no pool of its own: the statement must run in its transaction.
  const pool = findPool(target);
  return pool ? (await sql<Row>(pool, text, values)).rows : target.$queryRawUnsafe<Row[]>(text, ...values);
}

/** The custom types (and the versions) the events were checked against; the insert holds only if they are still current. */
type TypeGuard = { names: string[]; versions: number[] };
/** Idempotency keys to claim with the events: each names the event it made. */
type KeyClaim = { publisherId: string; keys: { key: string; hash: string; eventId: string }[] };

/**
 * One statement: the idempotency keys claimed (a key nobody holds, or whose 24 hours are over;
 * a live one is left alone), the events (an event whose key was not claimed is not written, and
 * an id already present is skipped, so a fixed id is written once), each custom type checked to be
 * unarchived and unchanged since its payloads were checked, and, with `handOver` (embedded engine),
 * each event's fan-out run queued and the engine woken, as the outbox dispatcher would: the event
 * is handed over in the same transaction that records it. Nothing is written unless every type is
 * current: `current` false means the catalog changed meanwhile.
 */
async function insertEvents(
  target: OutboxTarget,
  events: OutboxEvent[],
  options: InsertOptions = {},
): Promise<{ inserted: number; current: boolean; keysClaimed: number }> {
  const statement = outboxInsertStatement(events, options);
  const [row] = await query<{ inserted: number; current: boolean; keysClaimed: number }>(
    target,
    statement.text,
    statement.values,
  );
  return row!;
}

type InsertOptions = { guard?: TypeGuard; claim?: KeyClaim; handOver?: boolean };

/**
 * insertEvents' statement, for a caller that runs it in a batch of its own (the Trigger.dev
 * path's record of an attempt: `db.$queryRawUnsafe(text, ...values)` in its transaction).
 */
export function outboxInsertStatement(
  events: OutboxEvent[],
  { guard = { names: [], versions: [] }, claim, handOver = false }: InsertOptions = {},
): { text: string; values: unknown[] } {
  const column = <T>(pick: (event: OutboxEvent) => T) => events.map(pick);
  const keys = claim?.keys ?? [];
  if (handOver && events.some((event) => !event.fanOut)) throw new Error("Only events for the fan-out are handed over");
  // Handed over here, an event is dispatched as it is written; otherwise the dispatcher does it after the commit.
  const dispatched = handOver ? "true" : "NOT e.fan_out";
  return {
    text: `WITH guard AS (
       SELECT count(*) = cardinality($8::text[]) AS current
       FROM "EventType" t JOIN unnest($8::text[], $9::float8[]) AS v(name, version_ms) ON t.name = v.name
       WHERE t."archivedAt" IS NULL AND (extract(epoch FROM t."updatedAt") * 1000)::bigint = v.version_ms::bigint
     ), keys AS (
       INSERT INTO "PublishIdempotencyKey" ("publisherId", key, "requestHash", "eventId", "createdAt", "expiresAt")
       SELECT $10::text, k.key, k.hash, k.event_id, now(), now() + make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})
       FROM unnest($11::text[], $12::text[], $13::text[]) AS k(key, hash, event_id)
       WHERE (SELECT current FROM guard)
       ON CONFLICT ("publisherId", key) DO UPDATE
         SET "requestHash" = EXCLUDED."requestHash", "eventId" = EXCLUDED."eventId",
             "createdAt" = EXCLUDED."createdAt", "expiresAt" = EXCLUDED."expiresAt"
         WHERE "PublishIdempotencyKey"."expiresAt" <= now()
       RETURNING "eventId"
     ), inserted AS (
       INSERT INTO "WebhookEvent" (id, type, "userId", source, payload, "createdAt", "dispatchedAt", "dispatchAttempts")
       SELECT e.id, e.type, e.user_id, e.source, e.payload::jsonb, to_timestamp(e.created_ms / 1000) AT TIME ZONE 'UTC',
              CASE WHEN ${dispatched} THEN to_timestamp(e.created_ms / 1000) AT TIME ZONE 'UTC' END,
              CASE WHEN ${dispatched} THEN 1 ELSE 0 END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::boolean[])
         AS e(id, type, user_id, source, payload, created_ms, fan_out)
       WHERE (SELECT current FROM guard)
         AND (e.id <> ALL ($13::text[]) OR e.id IN (SELECT "eventId" FROM keys))
       ON CONFLICT (id) DO NOTHING
       RETURNING id, type
     )${
       handOver
         ? `, runs AS (
       ${embeddedFanOutRunsSql("inserted")}
       RETURNING "taskId"
     ), woken AS (
       SELECT pg_notify($14, string_agg(DISTINCT "taskId", ',')) FROM runs HAVING count(*) > 0
     )`
         : ""
     }
     SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT current FROM guard) AS current,
            (SELECT count(*) FROM keys)::int AS "keysClaimed"${handOver ? ", (SELECT count(*) FROM woken) AS woken" : ""}`,
    values: [
      column((event) => event.id),
      column((event) => event.type),
      column((event) => event.userId),
      column((event) => event.source),
      column((event) => JSON.stringify(event.payload)),
      column((event) => event.createdAt.getTime()),
      column((event) => event.fanOut),
      guard.names,
      guard.versions,
      claim?.publisherId ?? null,
      keys.map((key) => key.key),
      keys.map((key) => key.hash),
      keys.map((key) => key.eventId),
      ...(handOver ? [TASK_RUN_CHANNEL] : []),
    ],
  };
}

/**
 * Writes checked events of Echo's own types into the outbox, in the caller's transaction when
 * given one (Prisma or a pg client inside sqlTransaction): they exist exactly when its other
 * writes commit. Hand them over after the commit with dispatchEventsOf(source) or dispatchEvents(ids).
 */
export async function recordEvents(target: OutboxTarget, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await insertEvents(target, events);
}

export type PublishOptions = {
  /** Record in the caller's transaction; the caller hands the event over after its commit (dispatchEventsOf(source)). */
  tx?: Prisma.TransactionClient | pg.PoolClient;
  /** Events of one source are handed over together; default `echo`. */
  source?: string;
  occurredAt?: Date;
  /** False: the caller delivers it itself (a test send to one endpoint). */
  fanOut?: boolean;
  db?: Database;
};

/**
 * Publishes one event for a user from code inside Echo: checks the payload against its type
 * (Echo's own types by their zod schema, custom types by their JSON Schema), writes it in the
 * outbox and, outside a caller's transaction, hands it to the fan-out at once (if that fails,
 * the outbox sweep does it). Throws a ServiceError for an unknown (404) or archived (409) custom
 * type, a payload that does not match (400) or one over 256 KB (413).
 */
export async function publishEvent<T extends EventType>(
  userId: string | null,
  type: T,
  payload: EventPayload<T>,
  options?: PublishOptions,
): Promise<{ eventId: string }>;
export async function publishEvent(
  userId: string,
  type: string,
  payload: Record<string, unknown>,
  options?: Omit<PublishOptions, "tx">,
): Promise<{ eventId: string }>;
export async function publishEvent(
  userId: string | null,
  type: string,
  payload: unknown,
  { tx, source = "echo", occurredAt, fanOut = true, db = prisma }: PublishOptions = {},
): Promise<{ eventId: string }> {
  if (isEventType(type)) {
    const event = builtInEvent(userId, type, payload as EventPayload<typeof type>, { source, occurredAt, fanOut });
    if (tx) {
      await recordEvents(tx, [event]);
      return { eventId: event.id };
    }
    // On the embedded engine the statement queues its fan-out too; on Trigger.dev it is handed over after.
    const handOver = fanOut && !usesTriggerDev;
    await insertEvents(db, [event], { handOver });
    if (fanOut && !handOver) await dispatchEvents([event.id]);
    return { eventId: event.id };
  }
  const [published] = await publishEvents(
    { publisherId: null, source },
    [{ eventType: type, payload: payload as Record<string, unknown>, userId: userId ?? undefined }],
    db,
    { fanOut, occurredAt },
  );
  return { eventId: published!.eventId };
}

/** After the commit: hands the events to the job engine right away. Never throws; on failure the outbox sweep retries. */
export async function dispatchEvents(eventIds: string[], context: Record<string, unknown> = {}): Promise<void> {
  if (eventIds.length === 0) return;
  try {
    await dispatchPendingEvents({ eventIds });
  } catch (error) {
    logger.error(
      { err: error, events: eventIds.length, ...context },
      "Handing events to the job engine failed; the outbox sweep will retry",
    );
  }
}

/**
 * After the commit: hands the source's recorded events to the job engine right away. Never
 * throws into the caller's flow; if handing over fails, the outbox sweep retries.
 */
export async function dispatchEventsOf(source: string, context: Record<string, unknown> = {}): Promise<void> {
  try {
    await dispatchPendingEvents({ source });
  } catch (error) {
    logger.error(
      { err: error, source, ...context },
      "Handing events to the job engine failed; the outbox sweep will retry",
    );
  }
}

/** Stripe's rule: any visible ASCII, at most 255 characters (a UUID is the usual choice). */
export const IdempotencyKeySchema = z
  .string()
  .min(1, "An idempotency key is at least 1 character")
  .max(255, "An idempotency key is at most 255 characters")
  .regex(/^[\x21-\x7E]+$/, "An idempotency key is visible ASCII characters (no spaces), e.g. a UUID")
  .meta({
    description:
      "The same key (per publishing user) with the same request within 24 hours returns the first event and delivers nothing again; with a different request it is refused (409). The `Idempotency-Key` header does the same.",
  });

/** POST /api/v1/events: one event. */
export const PublishEventSchema = z
  .object({
    eventType: EventTypeNameSchema,
    payload: z
      .record(z.string(), z.unknown())
      .meta({ description: "A JSON object that matches the type's JSON Schema; at most 256 KB." }),
    userId: z.string().min(1).max(100).optional().meta({
      description: "Whose endpoints receive it: yours by default. Another user's only with an operator's key.",
    }),
    idempotencyKey: IdempotencyKeySchema.optional(),
  })
  .strict();

/** POST /api/v1/events/batch: up to 100 events, all published or none. */
export const PublishBatchSchema = z
  .object({
    events: z
      .array(PublishEventSchema)
      .min(1, "Send at least one event")
      .max(MAX_BATCH_EVENTS, `At most ${MAX_BATCH_EVENTS} events per batch`),
  })
  .strict();

/** One event to publish, as the API takes it (the service's own input; the route's schema checks its shape). */
export type PublishInput = {
  eventType: string;
  payload: Record<string, unknown>;
  /** Whose endpoints receive it; the publisher's own by default. Another user's only for an operator. */
  userId?: string;
  idempotencyKey?: string;
};

export type PublishedEvent = {
  eventId: string;
  eventType: string;
  userId: string;
  createdAt: Date;
  idempotencyKey: string | null;
  /** The same Idempotency-Key and request as an earlier publish: this is that publish's event, not a new one. */
  replayed: boolean;
};

/** Who publishes: a user of the API (their key scopes idempotency keys), or Echo itself (publisherId null). */
export type Publisher = { publisherId: string | null; source?: string };

/** How a request is recognised when its Idempotency-Key comes again: its type, user and payload, key order aside. */
export function publishRequestHash(input: { eventType: string; userId: string; payload: unknown }): string {
  return createHash("sha256")
    .update(stableStringify({ eventType: input.eventType, userId: input.userId, payload: input.payload }) ?? "")
    .digest("hex");
}

/** Field paths of a batch's items (`events.2.payload`) or of a single publish (`payload`). */
type FieldOf = (index: number, field: string) => string;

class Refusals {
  private readonly issues: (FieldIssue & { status: ServiceError["status"] })[] = [];
  constructor(private readonly fieldOf: FieldOf) {}
  add(index: number, field: string, status: ServiceError["status"], message: string) {
    this.issues.push({ field: this.fieldOf(index, field), message, status });
  }
  get any() {
    return this.issues.length > 0;
  }
  /** The first refused item decides the status; every refusal is listed. */
  throwIfAny(): void {
    const first = this.issues[0];
    if (!first) return;
    const detail =
      this.issues.length === 1
        ? first.message
        : `${this.issues.length} problems; nothing was published. See \`errors\`.`;
    throw new ServiceError(
      detail,
      first.status,
      undefined,
      this.issues.map(({ field, message }) => ({ field, message })),
    );
  }
}

const fieldOfSingle: FieldOf = (_index, field) => field;
export const fieldOfBatchItem: FieldOf = (index, field) => `events.${index}${field ? `.${field}` : ""}`;

type Prepared = {
  input: PublishInput;
  userId: string;
  type: ResolvedEventType | null;
  hash: string | null;
};

/**
 * Publishes events for the API and for code inside Echo: all of them or none. Every item is
 * checked first (who it is for, its type, its payload against the type's schema, its size, its
 * idempotency key); a refusal names every failing item and writes nothing. A key seen within
 * 24 hours with the same request returns that request's event (nothing is delivered twice);
 * with another request it is refused (409). The events are handed to the fan-out after the
 * commit (the outbox sweep retries if that fails).
 */
export async function publishEvents(
  publisher: Publisher,
  inputs: PublishInput[],
  db: Database = prisma,
  {
    fieldOf = inputs.length === 1 ? fieldOfSingle : fieldOfBatchItem,
    fanOut = true,
    occurredAt,
  }: {
    fieldOf?: FieldOf;
    /** False: the caller delivers the events itself (the dispatcher has nothing to hand over). */
    fanOut?: boolean;
    occurredAt?: Date;
  } = {},
): Promise<PublishedEvent[]> {
  const source = publisher.source ?? (publisher.publisherId ? `api:${publisher.publisherId}` : "echo");
  for (let attempt = 1; ; attempt++) {
    const prepared = await prepare(publisher, inputs, db, fieldOf);
    const outcome = await write(publisher, prepared, source, db, fieldOf, { fanOut, occurredAt });
    if (outcome.ok) {
      const fresh = outcome.published.filter((event) => !event.replayed).map((event) => event.eventId);
      if (!outcome.handedOver && fanOut) await dispatchEvents(fresh, { publisherId: publisher.publisherId });
      return outcome.published;
    }
    // The catalog changed, or another request took a key, between the checks and the write: check again.
    for (const item of prepared) if (item.type) forgetActiveEventType(item.type.name);
    if (attempt >= 3) throw new ServiceError("The event catalog is changing right now; try again.", 409);
  }
}

async function prepare(
  publisher: Publisher,
  inputs: PublishInput[],
  db: Database,
  fieldOf: FieldOf,
): Promise<Prepared[]> {
  const refusals = new Refusals(fieldOf);
  const publisherId = publisher.publisherId;

  // Who: a user publishes to their own endpoints; an operator (or Echo itself) for anyone.
  const others = [...new Set(inputs.map((input) => input.userId).filter((id) => id && id !== publisherId))];
  if (others.length > 0 && publisherId && !(await findUserById(db, publisherId))?.isOperator) {
    inputs.forEach((input, index) => {
      if (input.userId && input.userId !== publisherId)
        refusals.add(index, "userId", 403, "Only an operator may publish for another user; leave userId out.");
    });
    refusals.throwIfAny();
  }
  if (others.length > 0) {
    const { rows } = await sqlOn<{ id: string }>(db, `SELECT id FROM "User" WHERE id = ANY($1::text[])`, [others]);
    const found = new Set(rows.map((row) => row.id));
    inputs.forEach((input, index) => {
      if (input.userId && !found.has(input.userId) && input.userId !== publisherId)
        refusals.add(index, "userId", 404, `No user has the id ${input.userId}.`);
    });
  }

  // What: a custom type of the catalog, not archived; Echo's own types are Echo's to raise.
  const customNames = [...new Set(inputs.map((input) => input.eventType).filter((name) => !isEventType(name)))];
  const types = await resolveCustomEventTypes(db, customNames);
  const prepared: Prepared[] = inputs.map((input, index) => {
    const userId = input.userId ?? publisherId;
    if (!userId) refusals.add(index, "userId", 400, "Name the user whose endpoints receive the event.");
    let type: ResolvedEventType | null = null;
    if (isEventType(input.eventType)) {
      if (publisherId)
        refusals.add(
          index,
          "eventType",
          403,
          `${input.eventType} is one of Echo's own event types, raised by Echo itself; publish a custom type.`,
        );
    } else {
      const found = types.get(input.eventType);
      if (!found)
        refusals.add(
          index,
          "eventType",
          404,
          `No event type ${input.eventType} in the catalog; an operator creates it first (POST /api/v1/event-types).`,
        );
      else if (found.archived)
        refusals.add(
          index,
          "eventType",
          409,
          `The event type ${input.eventType} is archived; nothing more can be published.`,
        );
      else type = found;
    }
    if (type) {
      for (const issue of type.check(input.payload))
        refusals.add(index, issue.path ? `payload.${issue.path}` : "payload", 400, issue.message);
    }
    const bytes = payloadBytes(input.payload);
    if (bytes > MAX_EVENT_BODY_BYTES)
      refusals.add(index, "payload", 413, `The payload is ${bytes} bytes; an event's payload is at most 256 KB.`);
    const hash =
      input.idempotencyKey && userId
        ? publishRequestHash({ eventType: input.eventType, userId, payload: input.payload })
        : null;
    return { input, userId: userId ?? "", type, hash };
  });

  // The same key twice in one request must name the same request.
  const hashByKey = new Map<string, string>();
  prepared.forEach((item, index) => {
    const key = item.input.idempotencyKey;
    if (!key || !item.hash) return;
    const seen = hashByKey.get(key);
    if (seen && seen !== item.hash)
      refusals.add(
        index,
        "idempotencyKey",
        409,
        "This idempotency key is used twice in the batch for different events.",
      );
    hashByKey.set(key, item.hash);
  });
  refusals.throwIfAny();
  return prepared;
}

/** `handedOver`: the statement queued the fan-out itself (embedded engine); otherwise dispatch after the commit. */
type WriteOutcome = { ok: true; published: PublishedEvent[]; handedOver: boolean } | { ok: false };

async function write(
  publisher: Publisher,
  prepared: Prepared[],
  source: string,
  db: Database,
  fieldOf: FieldOf,
  { fanOut, occurredAt }: { fanOut: boolean; occurredAt?: Date },
): Promise<WriteOutcome> {
  const now = occurredAt ?? new Date();
  const events: (OutboxEvent | null)[] = prepared.map((item) => ({
    id: randomUUID(),
    type: item.input.eventType,
    userId: item.userId,
    source,
    payload: item.input.payload,
    createdAt: now,
    fanOut,
  }));
  const typesUsed = new Map(prepared.flatMap((item) => (item.type ? [[item.type.name, item.type.versionMs]] : [])));
  const guard: TypeGuard = { names: [...typesUsed.keys()], versions: [...typesUsed.values()] };
  const keyed = prepared.some((item) => item.input.idempotencyKey);

  const publishedOf = (event: OutboxEvent, item: Prepared): PublishedEvent => ({
    eventId: event.id,
    eventType: event.type,
    userId: item.userId,
    createdAt: event.createdAt,
    idempotencyKey: item.input.idempotencyKey ?? null,
    replayed: false,
  });

  // On the embedded engine the statement that records the events also queues their fan-out.
  const handOver = !usesTriggerDev && fanOut;

  if (!keyed || !publisher.publisherId) {
    // The common case is one round trip: a single statement is its own transaction.
    const written = await insertEvents(db, events as OutboxEvent[], { guard, handOver });
    if (!written.current) return { ok: false };
    return {
      ok: true,
      handedOver: handOver,
      published: prepared.map((item, index) => publishedOf(events[index]!, item)),
    };
  }

  const publisherId = publisher.publisherId;
  if (prepared.length === 1) {
    // One event with a key, also one round trip: the key is claimed, and only then the event written.
    const item = prepared[0]!;
    const event = events[0]!;
    const key = item.input.idempotencyKey!;
    const written = await insertEvents(db, [event], {
      guard,
      handOver,
      claim: { publisherId, keys: [{ key, hash: item.hash!, eventId: event.id }] },
    });
    if (!written.current) return { ok: false };
    if (written.keysClaimed === 1) return { ok: true, handedOver: handOver, published: [publishedOf(event, item)] };
    // The key is live: this request again (the same event, nothing written), or another one (409).
    const [earlier] = await liveKeys(db, publisherId, [key]);
    if (!earlier) return { ok: false };
    return { ok: true, handedOver: handOver, published: [replayOf(earlier, item, fieldOf)] };
  }
  try {
    return await writeWithKeys(publisherId, prepared, events, guard, db, fieldOf, publishedOf, handOver);
  } catch (error) {
    if (error instanceof StartOver) return { ok: false };
    throw error;
  }
}

type LiveKey = {
  key: string;
  requestHash: string;
  eventId: string;
  type: string;
  userId: string | null;
  createdAt: Date;
};

/** The publisher's keys of these that are still within their 24 hours, with the event each made. */
async function liveKeys(target: Database | SqlRunner, publisherId: string, keys: string[]): Promise<LiveKey[]> {
  const runner = isSqlRunner(target) ? target : findPool(target)!;
  const { rows } = await sql<LiveKey>(
    runner,
    `SELECT k.key, k."requestHash", k."eventId", e.type, e."userId", e."createdAt"
     FROM "PublishIdempotencyKey" k JOIN "WebhookEvent" e ON e.id = k."eventId"
     WHERE k."publisherId" = $1 AND k.key = ANY($2::text[]) AND k."expiresAt" > now()`,
    [publisherId, keys],
  );
  return rows;
}

/** The answer to a request whose key was used before: its event again if it is the same request; a 409 if not. */
function replayOf(earlier: LiveKey, item: Prepared, fieldOf: FieldOf, index = 0): PublishedEvent {
  if (earlier.requestHash !== item.hash) {
    const refusals = new Refusals(fieldOf);
    refusals.add(index, "idempotencyKey", 409, conflictMessage(earlier.key));
    refusals.throwIfAny();
  }
  return {
    eventId: earlier.eventId,
    eventType: earlier.type,
    userId: earlier.userId ?? item.userId,
    createdAt: earlier.createdAt,
    idempotencyKey: earlier.key,
    replayed: true,
  };
}

const conflictMessage = (key: string) =>
  `The idempotency key ${key} was used within the last ${IDEMPOTENCY_KEY_TTL_HOURS} hours for a different event; use a new key for a new event.`;

/** Rolls the transaction back: what it checked no longer holds. */
class StartOver extends Error {}

async function writeWithKeys(
  publisherId: string,
  prepared: Prepared[],
  events: (OutboxEvent | null)[],
  guard: TypeGuard,
  db: Database,
  fieldOf: FieldOf,
  publishedOf: (event: OutboxEvent, item: Prepared) => PublishedEvent,
  handOver: boolean,
): Promise<WriteOutcome> {
  return sqlTransaction(db, async (client): Promise<WriteOutcome> => {
    const keys = [
      ...new Set(prepared.flatMap((item) => (item.input.idempotencyKey ? [item.input.idempotencyKey] : []))),
    ];
    const live = await liveKeys(client, publisherId, keys);
    const liveByKey = new Map(live.map((row) => [row.key, row]));
    const refusals = new Refusals(fieldOf);
    const published: (PublishedEvent | null)[] = prepared.map(() => null);
    const firstOfKey = new Map<string, number>();
    prepared.forEach((item, index) => {
      const key = item.input.idempotencyKey;
      if (!key) return;
      const earlier = liveByKey.get(key);
      if (earlier) {
        if (earlier.requestHash !== item.hash) {
          refusals.add(index, "idempotencyKey", 409, conflictMessage(key));
          return;
        }
        events[index] = null;
        published[index] = replayOf(earlier, item, fieldOf, index);
        return;
      }
      // The same key twice in this batch (same request, checked above): one event, the second a replay of it.
      const first = firstOfKey.get(key);
      if (first !== undefined) {
        events[index] = null;
        published[index] = { ...publishedOf(events[first]!, prepared[first]!), replayed: true };
        return;
      }
      firstOfKey.set(key, index);
    });
    refusals.throwIfAny();

    const fresh = events.flatMap((event, index) => (event ? [{ event, item: prepared[index]! }] : []));
    const claim: KeyClaim = {
      publisherId,
      keys: fresh.flatMap(({ event, item }) =>
        item.input.idempotencyKey ? [{ key: item.input.idempotencyKey, hash: item.hash!, eventId: event.id }] : [],
      ),
    };
    if (fresh.length > 0) {
      const written = await insertEvents(
        client,
        fresh.map(({ event }) => event),
        { guard, claim, handOver },
      );
      // A key taken by a request running at the same time: start over, and find its event then.
      if (!written.current || written.keysClaimed < claim.keys.length) throw new StartOver();
    }
    return {
      ok: true,
      handedOver: handOver,
      published: prepared.map((item, index) => published[index] ?? publishedOf(events[index]!, item)),
    };
  });
}

/** Keys past their 24 hours are never honoured; this deletes them, in batches. */
export async function deleteExpiredIdempotencyKeys(db: Database = prisma, batchSize = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await sqlOn(
      db,
      `DELETE FROM "PublishIdempotencyKey" k USING (
         SELECT "publisherId", key FROM "PublishIdempotencyKey" WHERE "expiresAt" <= now() LIMIT $1
       ) doomed
       WHERE k."publisherId" = doomed."publisherId" AND k.key = doomed.key`,
      [batchSize],
    );
    total += rowCount;
    if (rowCount < batchSize) return total;
  }
}

/** Runs deleteExpiredIdempotencyKeys every `intervalMs`, in every worker, whatever the retention settings. */
export function startIdempotencyKeyCleanup({
  intervalMs,
  db = prisma,
}: {
  intervalMs: number;
  db?: Database;
}): () => Promise<void> {
  return runPeriodically({
    name: "Deleting expired idempotency keys",
    intervalMs,
    work: async () => {
      const deleted = await deleteExpiredIdempotencyKeys(db);
      if (deleted > 0) logger.info({ deleted }, "Deleted expired idempotency keys");
    },
  });
}

/** The public form of a published event's id, for answers. */
export { publicEventId };
