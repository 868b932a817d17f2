import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import type { TaskRunStatus, WebhookDeliveryStatus } from "~/generated/prisma/enums";
import {
  DELIVERY_TASK_ID,
  RUN_STATUSES,
  RUN_TASK_IDS,
  TASK_RUN_TASK_IDS,
  deliveryIdempotencyKey,
  deliveryRunId,
  deliveryRunStatus,
  parseRunId,
  taskRunStatus,
  type RunStatus,
} from "~/lib/runs/runs";
import { sqlOn } from "~/services/database/sql.server";
import { ServiceError } from "~/services/service-error.server";
import { decodeRunCursor, encodeRunCursor } from "./run-cursor.server";

const IsoDateTime = z.iso.datetime({ offset: true, message: "Use an ISO 8601 date-time, e.g. 2026-01-15T09:30:00Z" });

/** The runs list's filters, as the JSON API takes them (the page maps its form onto the same). */
export const RunListFiltersSchema = z
  .object({
    task: z
      .enum(RUN_TASK_IDS, { message: `task is one of ${RUN_TASK_IDS.join(", ")}` })
      .optional()
      .meta({ description: "Only this task's runs." }),
    status: z
      .enum(RUN_STATUSES, { message: `status is one of ${RUN_STATUSES.join(", ")}` })
      .optional()
      .meta({ description: "Only runs in this status." }),
    since: IsoDateTime.optional().meta({ description: "Runs created at or after this time." }),
    until: IsoDateTime.optional().meta({ description: "Runs created at or before this time." }),
    q: z
      .string()
      .trim()
      .min(1, "q cannot be empty")
      .max(200, "q is at most 200 characters")
      .refine((value) => !value.includes("\u0000"), "q cannot contain NUL (\\u0000)")
      .optional()
      .meta({
        description:
          "A run's id, a delivery's id, an event's id (its fan-out run and its deliveries) or an idempotency key.",
      }),
    limit: z.coerce.number().int().min(1, "limit is at least 1").max(100, "limit is at most 100").default(50),
    cursor: z.string().max(400).optional().meta({ description: "`nextCursor` of the previous page." }),
  })
  .strict();
export type RunListFilters = z.output<typeof RunListFiltersSchema>;

/** One run as the list shows it: a TaskRun, or a webhook delivery seen as a `webhook-delivery` run. */
export type RunSummary = {
  id: string;
  source: "task-run" | "delivery";
  taskId: string;
  status: RunStatus;
  /** Attempts started so far. */
  attempt: number;
  /** Deliveries: the most attempts they get. TaskRuns: the task's `retry.maxAttempts` is the engine's, not stored. */
  maxAttempts: number | null;
  createdAt: Date;
  completedAt: Date | null;
  /** Queued or retrying: when the next attempt is due (null for a delivery held back: a paused endpoint, a test send). */
  nextAttemptAt: Date | null;
  /** A delivery waiting to be released (its endpoint is paused, or a test send is being made in a request). */
  held: boolean;
  /** Executing: the worker holding the lease, and until when. */
  lockedBy: string | null;
  lockedUntil: Date | null;
  idempotencyKey: string | null;
  concurrencyKey: string | null;
  lastError: string | null;
  /** What the run is about, in a few words: the event type and target URL, or the payload's ids. */
  subject: string;
};

type RunRow = {
  source: "task-run" | "delivery";
  id: string;
  taskId: string;
  status: string;
  attempt: number;
  maxAttempts: number | null;
  createdAt: Date;
  completedAt: Date | null;
  cancelledAt: Date | null;
  dueAt: Date | null;
  lockedBy: string | null;
  lockedUntil: Date | null;
  idempotencyKey: string | null;
  concurrencyKey: string | null;
  lastError: string | null;
  payload: unknown;
  eventType: string | null;
  url: string | null;
};

/** How each console status reads in TaskRun's columns (queued and retrying are both QUEUED, told apart by attempt). */
const TASK_RUN_STATUS: Record<RunStatus, { status: TaskRunStatus; attempts?: "none" | "some" }> = {
  queued: { status: "QUEUED", attempts: "none" },
  retrying: { status: "QUEUED", attempts: "some" },
  executing: { status: "EXECUTING" },
  completed: { status: "COMPLETED" },
  failed: { status: "FAILED" },
  cancelled: { status: "CANCELLED" },
};
const ALL_TASK_RUN_STATUSES: TaskRunStatus[] = ["QUEUED", "EXECUTING", "COMPLETED", "FAILED", "CANCELLED"];

/** How each console status reads in WebhookDelivery's columns (see deliveryRunStatus). */
const DELIVERY_STATUS: Record<RunStatus, string> = {
  queued: `d.status = 'PENDING' AND d."completedAt" IS NULL`,
  executing: `d.status = 'SENDING' AND d."completedAt" IS NULL`,
  retrying: `d.status = 'RETRYING' AND d."completedAt" IS NULL`,
  completed: `d.status = 'SUCCESS'`,
  failed: `d.status = 'FAILED' AND NOT COALESCE(d."cancelledAt" >= d."completedAt", false)`,
  cancelled: `d.status = 'FAILED' AND d."cancelledAt" >= d."completedAt"`,
};

/** Builds a statement's parameters as it is written: each value gets the next `$n`. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  /** A time, as epoch milliseconds made into the UTC `timestamp(3)` Prisma stores. */
  time(value: Date): string {
    return `(to_timestamp(${this.add(value.getTime())}::float8 / 1000) AT TIME ZONE 'UTC')`;
  }
}

/** What a search term can name: runs, deliveries, and the fan-out run and deliveries of an event. */
async function searchTerms(db: Database, q: string) {
  const ref = parseRunId(q);
  if (ref.kind === "delivery") return { taskRunKeys: [], deliveryIds: [ref.deliveryId], eventId: null };
  const deliveryIds = [q];
  if (q.startsWith("delivery:")) deliveryIds.push(q.slice("delivery:".length).split(":")[0]!);
  // An event's fan-out run is keyed `type:eventId`; its id may be given bare or as receivers see it (evt_…).
  const eventId = q.startsWith("evt_") ? q.slice(4) : q;
  const event = await db.webhookEvent.findUnique({ where: { id: eventId }, select: { id: true, type: true } });
  return {
    taskRunKeys: event ? [q, `${event.type}:${event.id}`] : [q],
    deliveryIds,
    eventId: event?.id ?? null,
  };
}

/**
 * Newest first, a page at a time, TaskRuns and deliveries merged. Each source is read by keyset on
 * (createdAt, id) from an index: TaskRuns one (task, status) pair at a time from
 * (taskId, status, createdAt, id), each stopping after a page; deliveries from (createdAt, id),
 * filtered (their status cannot be indexed: claims must stay HOT updates). The pages are merged
 * and cut to one. So a page costs about the same with 100 runs or 100,000 (docs/PERFORMANCE.md).
 */
export async function listRuns(
  filters: RunListFilters,
  db: Database = prisma,
): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
  const since = filters.since ? new Date(filters.since) : null;
  const until = filters.until ? new Date(filters.until) : null;
  if (since && until && since > until) throw new ServiceError("`since` is after `until`.", 400, "since");
  const after = filters.cursor ? decodeRunCursor(filters.cursor) : null;
  if (filters.cursor && !after) {
    throw new ServiceError(
      "The cursor is not one Echo returned; use nextCursor from the previous page.",
      400,
      "cursor",
    );
  }
  const search = filters.q ? await searchTerms(db, filters.q) : null;
  const take = filters.limit + 1;
  const params = new Params();
  const parts: string[] = [];

  const tasks = filters.task ? [filters.task] : RUN_TASK_IDS;
  const taskRunTasks = TASK_RUN_TASK_IDS.filter((task) => tasks.includes(task));
  const searchesTaskRuns = !search || search.taskRunKeys.length > 0;
  if (taskRunTasks.length > 0 && searchesTaskRuns) {
    const wanted = filters.status ? TASK_RUN_STATUS[filters.status] : null;
    const conditions = [`r."taskId" = t.task`, `r.status = s.status`];
    if (wanted?.attempts === "none") conditions.push(`r.attempt = 0`);
    if (wanted?.attempts === "some") conditions.push(`r.attempt > 0`);
    if (since) conditions.push(`r."createdAt" >= ${params.time(since)}`);
    if (until) conditions.push(`r."createdAt" <= ${params.time(until)}`);
    if (after) conditions.push(`(r."createdAt", r.id) < (${params.time(after.createdAt)}, ${params.add(after.id)})`);
    if (search) {
      const terms = params.add(search.taskRunKeys);
      conditions.push(`(r.id = ANY(${terms}::text[]) OR r."idempotencyKey" = ANY(${terms}::text[]))`);
    }
    parts.push(`
      SELECT page.* FROM unnest(${params.add(taskRunTasks)}::text[]) AS t(task)
      CROSS JOIN unnest(${params.add(wanted ? [wanted.status] : ALL_TASK_RUN_STATUSES)}::"TaskRunStatus"[]) AS s(status)
      CROSS JOIN LATERAL (
        SELECT 'task-run' AS source, r.id, r."taskId", r.status::text AS status, r.attempt, NULL::int AS "maxAttempts",
               r."createdAt", r."completedAt", NULL::timestamp(3) AS "cancelledAt", r."runAt" AS "dueAt", r."lockedBy",
               r."lockedUntil", r."idempotencyKey", r."concurrencyKey", r."lastError", r.payload,
               NULL::text AS "eventType", NULL::text AS url
        FROM "TaskRun" r
        WHERE ${conditions.join(" AND ")}
        ORDER BY r."createdAt" DESC, r.id DESC
        LIMIT ${params.add(take)}
      ) AS page`);
  }

  const searchesDeliveries = !search || search.deliveryIds.length > 0 || search.eventId;
  if (tasks.includes(DELIVERY_TASK_ID) && searchesDeliveries) {
    const conditions: string[] = [];
    if (filters.status) conditions.push(DELIVERY_STATUS[filters.status]);
    if (since) conditions.push(`d."createdAt" >= ${params.time(since)}`);
    if (until) conditions.push(`d."createdAt" <= ${params.time(until)}`);
    if (after) conditions.push(`(d."createdAt", d.id) < (${params.time(after.createdAt)}, ${params.add(after.id)})`);
    if (search) {
      const byId = `d.id = ANY(${params.add(search.deliveryIds)}::text[])`;
      conditions.push(search.eventId ? `(${byId} OR d."eventId" = ${params.add(search.eventId)})` : byId);
    }
    parts.push(`
      (SELECT 'delivery' AS source, d.id, '${DELIVERY_TASK_ID}' AS "taskId", d.status::text AS status,
              d."attemptCount" AS attempt, d."maxAttempts", d."createdAt", d."completedAt", d."cancelledAt",
              d."nextAttemptAt" AS "dueAt", d."lockedBy", d."lockedUntil", NULL::text AS "idempotencyKey",
              COALESCE(d."oauthClientId", d."endpointId") AS "concurrencyKey", d."lastError", NULL::jsonb AS payload,
              d."eventType", d.url
       FROM "WebhookDelivery" d
       ${conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : ""}
       ORDER BY d."createdAt" DESC, d.id DESC
       LIMIT ${params.add(take)})`);
  }

  if (parts.length === 0) return { runs: [], nextCursor: null };
  const { rows } = await sqlOn<RunRow>(
    db,
    `SELECT * FROM (${parts.join("\nUNION ALL\n")}) AS runs
     ORDER BY "createdAt" DESC, id DESC
     LIMIT ${params.add(take)}`,
    params.values,
  );
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  const eventTypes = await eventTypesOf(db, page);
  return {
    runs: page.map((row) => toRunSummary(row, eventTypes)),
    nextCursor:
      rows.length > filters.limit && last ? encodeRunCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}

/** The types of the events the page's fan-out runs are about, so each says which event it fans out. */
async function eventTypesOf(db: Database, rows: RunRow[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.map((row) => eventIdOf(row.payload)).filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const events = await db.webhookEvent.findMany({ where: { id: { in: ids } }, select: { id: true, type: true } });
  return new Map(events.map((event) => [event.id, event.type]));
}

function eventIdOf(payload: unknown): string | null {
  const eventId = payload && typeof payload === "object" ? (payload as { eventId?: unknown }).eventId : undefined;
  return typeof eventId === "string" ? eventId : null;
}

function toRunSummary(row: RunRow, eventTypes: Map<string, string>): RunSummary {
  if (row.source === "delivery") {
    const status = deliveryRunStatus({
      status: row.status as WebhookDeliveryStatus,
      cancelledAt: row.cancelledAt,
      completedAt: row.completedAt,
    });
    const open = status === "queued" || status === "retrying";
    return {
      id: deliveryRunId(row.id),
      source: "delivery",
      taskId: DELIVERY_TASK_ID,
      status,
      attempt: row.attempt,
      maxAttempts: row.maxAttempts,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      nextAttemptAt: open ? row.dueAt : null,
      held: open && row.dueAt === null,
      lockedBy: status === "executing" ? row.lockedBy : null,
      lockedUntil: status === "executing" ? row.lockedUntil : null,
      idempotencyKey: deliveryIdempotencyKey(row.id),
      concurrencyKey: row.concurrencyKey,
      lastError: row.lastError,
      subject: `${row.eventType ?? ""} → ${row.url ?? ""}`,
    };
  }
  const status = taskRunStatus({ status: row.status as TaskRunStatus, attempt: row.attempt });
  return {
    id: row.id,
    source: "task-run",
    taskId: row.taskId,
    status,
    attempt: row.attempt,
    maxAttempts: null,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
    nextAttemptAt: status === "queued" || status === "retrying" ? row.dueAt : null,
    held: false,
    lockedBy: status === "executing" ? row.lockedBy : null,
    lockedUntil: status === "executing" ? row.lockedUntil : null,
    idempotencyKey: row.idempotencyKey,
    concurrencyKey: row.concurrencyKey,
    lastError: status === "completed" ? null : row.lastError,
    subject: payloadSubject(row.payload, eventTypes.get(eventIdOf(row.payload) ?? "")),
  };
}

/** The ids a TaskRun's payload names (never a sealed or secret field: only these keys are read). */
export function payloadSubject(payload: unknown, eventType?: string): string {
  if (!payload || typeof payload !== "object") return "";
  const record = payload as Record<string, unknown>;
  if (eventType && typeof record.eventId === "string") return `${eventType} · event ${record.eventId}`;
  const named: [string, string][] = [
    ["eventId", "event"],
    ["integrationAccountId", "account"],
    ["slug", "integration"],
    ["userId", "user"],
  ];
  return named
    .filter(([key]) => typeof record[key] === "string")
    .map(([key, label]) => `${label} ${String(record[key])}`)
    .join(" · ");
}
