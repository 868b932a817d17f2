import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import { Prisma } from "~/generated/prisma/client";
import {
  customEventTypeNameProblem,
  describeBuiltInEventTypes,
  EventTypeNameSchema,
  isEventType,
  isOperationalEventType,
  type EventTypeKind,
} from "~/lib/events/catalog";
import { compileJsonSchema, MAX_SCHEMA_BYTES, type CompiledSchema, type SchemaIssue } from "~/lib/events/json-schema";
import { findUserById } from "~/models/user.server";
import { sqlOn } from "~/services/database/sql.server";
import { ServiceError, type FieldIssue } from "~/services/service-error.server";

/**
 * The event catalog: Echo's own types (code, app/lib/events/catalog.ts) and custom types
 * (EventType rows) that producers publish through the API. Operators manage the custom types
 * (the catalog is one for the whole of Echo, like the product's own event types); every user
 * reads it and subscribes endpoints to it.
 */

const DescriptionSchema = z
  .string()
  .trim()
  .min(1, "Describe when this event happens")
  .max(500, "Keep the description under 500 characters");
const JsonObjectSchema = z.record(z.string(), z.unknown());

export const EventTypeCreateSchema = z
  .object({
    name: EventTypeNameSchema,
    description: DescriptionSchema,
    schema: JsonObjectSchema.meta({ description: "The payload's JSON Schema (draft 2020-12)." }),
    example: JsonObjectSchema.meta({ description: "A payload that matches the schema." }),
  })
  .strict();
export type EventTypeCreateInput = z.output<typeof EventTypeCreateSchema>;

export const EventTypeUpdateSchema = z
  .object({
    description: DescriptionSchema,
    schema: JsonObjectSchema.meta({ description: "The payload's JSON Schema (draft 2020-12)." }),
    example: JsonObjectSchema.meta({ description: "A payload that matches the schema." }),
    archived: z.boolean().meta({ description: "Archived: nothing more can be published; subscriptions stay." }),
  })
  .partial()
  .strict()
  .refine((input) => Object.keys(input).length > 0, "Send at least one field to change");
export type EventTypeUpdateInput = z.output<typeof EventTypeUpdateSchema>;

/** GET /api/v1/event-types' query. */
export const EventTypeListQuerySchema = z
  .object({
    includeArchived: z
      .enum(["true", "false"], { message: "includeArchived is true or false" })
      .optional()
      .meta({ description: "`true` lists archived custom types too." }),
  })
  .strict();

export type CatalogEntry = {
  type: string;
  kind: EventTypeKind;
  description: string;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
  archived: boolean;
  /** Custom types only (Echo's own have been there as long as Echo). */
  createdAt: Date | null;
  updatedAt: Date | null;
};

const customSelect = {
  name: true,
  description: true,
  schema: true,
  example: true,
  archivedAt: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.EventTypeSelect;
type CustomRow = Prisma.EventTypeGetPayload<{ select: typeof customSelect }>;

function customEntry(row: CustomRow): CatalogEntry {
  return {
    type: row.name,
    kind: "custom",
    description: row.description,
    schema: row.schema as Record<string, unknown>,
    example: row.example as Record<string, unknown>,
    archived: row.archivedAt !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The whole catalog: Echo's own types first, then custom ones by name (archived ones only when asked). */
export async function listEventCatalog(
  { includeArchived = false }: { includeArchived?: boolean } = {},
  db: Database = prisma,
): Promise<CatalogEntry[]> {
  const custom = await db.eventType.findMany({
    where: includeArchived ? {} : { archivedAt: null },
    orderBy: { name: "asc" },
    select: customSelect,
  });
  return [
    ...describeBuiltInEventTypes().map((entry) => ({ ...entry, archived: false, createdAt: null, updatedAt: null })),
    ...custom.map(customEntry),
  ];
}

/** One type of the catalog, built in or custom (archived too), or null. */
export async function getCatalogEntry(name: string, db: Database = prisma): Promise<CatalogEntry | null> {
  if (isEventType(name)) {
    const entry = describeBuiltInEventTypes().find((described) => described.type === name)!;
    return { ...entry, archived: false, createdAt: null, updatedAt: null };
  }
  const row = await db.eventType.findUnique({ where: { name }, select: customSelect });
  return row ? customEntry(row) : null;
}

async function requireCatalogManager(db: Database, userId: string): Promise<void> {
  if (!(await findUserById(db, userId))?.isOperator)
    throw new ServiceError("Only an operator manages the event catalog; anyone may read it.", 403);
}

const issuesAt = (field: string, issues: SchemaIssue[]): FieldIssue[] =>
  issues.map((issue) => ({ field: issue.path ? `${field}.${issue.path}` : field, message: issue.message }));

function refuse(issues: FieldIssue[]): never {
  throw new ServiceError(
    issues.length === 1 ? `${issues[0]!.field}: ${issues[0]!.message}` : "Some fields are invalid; see `errors`.",
    400,
    undefined,
    issues,
  );
}

/** The schema compiled, and the example checked against it; every problem of both is refused together. */
function checkSchemaAndExample(schema: Record<string, unknown>, example: Record<string, unknown>): void {
  const issues: FieldIssue[] = [];
  for (const [field, value] of [
    ["schema", schema],
    ["example", example],
  ] as const) {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (bytes > MAX_SCHEMA_BYTES)
      issues.push({ field, message: `It is ${bytes} bytes; at most ${MAX_SCHEMA_BYTES / 1024} KB.` });
  }
  if (issues.length > 0) refuse(issues);
  const compiled = compileJsonSchema(schema);
  if (!compiled.ok) refuse(issuesAt("schema", compiled.issues));
  const exampleIssues = compiled.check(example);
  if (exampleIssues.length > 0)
    refuse(
      issuesAt("example", exampleIssues).map((issue) => ({
        ...issue,
        message: `${issue.message} (the example must match the schema)`,
      })),
    );
}

/** Adds a custom type to the catalog (operators only). */
export async function createEventType(
  actorId: string,
  input: EventTypeCreateInput,
  db: Database = prisma,
): Promise<CatalogEntry> {
  await requireCatalogManager(db, actorId);
  const nameProblem = customEventTypeNameProblem(input.name);
  if (nameProblem) throw new ServiceError(nameProblem, 400, "name");
  checkSchemaAndExample(input.schema, input.example);
  try {
    const row = await db.eventType.create({
      data: {
        name: input.name,
        description: input.description,
        schema: input.schema as Prisma.InputJsonValue,
        example: input.example as Prisma.InputJsonValue,
      },
      select: customSelect,
    });
    return customEntry(row);
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")
      throw new ServiceError(
        `The catalog already has an event type named ${input.name} (archived ones too).`,
        409,
        "name",
      );
    throw error;
  }
}

/**
 * Changes a custom type (operators only): its description, schema and example (the example
 * must match the schema as saved), or archives it (nothing more can be published; endpoints
 * keep their subscription and every event already published is still delivered) or restores it.
 */
export async function updateEventType(
  actorId: string,
  name: string,
  input: EventTypeUpdateInput,
  db: Database = prisma,
): Promise<CatalogEntry> {
  await requireCatalogManager(db, actorId);
  if (isEventType(name)) throw new ServiceError(`${name} is one of Echo's own event types; it cannot be changed.`, 403);
  const existing = await db.eventType.findUnique({ where: { name }, select: customSelect });
  if (!existing) throw new ServiceError(`No event type ${name} in the catalog.`, 404);
  if (input.schema !== undefined || input.example !== undefined) {
    checkSchemaAndExample(
      input.schema ?? (existing.schema as Record<string, unknown>),
      input.example ?? (existing.example as Record<string, unknown>),
    );
  }
  const archivedAt =
    input.archived === undefined ? undefined : input.archived ? (existing.archivedAt ?? new Date()) : null;
  const row = await db.eventType.update({
    where: { name },
    data: {
      description: input.description,
      schema: input.schema as Prisma.InputJsonValue | undefined,
      example: input.example as Prisma.InputJsonValue | undefined,
      archivedAt,
    },
    select: customSelect,
  });
  forgetActiveEventType(name);
  return customEntry(row);
}

/** A custom type as publishing needs it: its compiled schema and the version it was compiled from. */
export type ResolvedEventType = { name: string; archived: boolean; versionMs: number; check: CompiledSchema };

const ACTIVE_TYPES_MAX = 5_000;
/**
 * Unarchived custom types compiled, per process. A stale entry is harmless: the publish's insert
 * checks every type it used is still unarchived at the same version (updatedAt), and starts over
 * from the catalog when one is not (publish.server.ts).
 */
const activeTypes = new Map<string, ResolvedEventType>();

export function forgetActiveEventType(name: string): void {
  activeTypes.delete(name);
}

/** The custom types of these names as the catalog has them now (missing names are absent from the map). */
export async function resolveCustomEventTypes(db: Database, names: string[]): Promise<Map<string, ResolvedEventType>> {
  const resolved = new Map<string, ResolvedEventType>();
  const missing: string[] = [];
  for (const name of names) {
    const cached = activeTypes.get(name);
    if (cached) resolved.set(name, cached);
    else missing.push(name);
  }
  if (missing.length === 0) return resolved;
  const { rows } = await sqlOn<{ name: string; schema: unknown; archived: boolean; versionMs: string }>(
    db,
    `SELECT name, schema, "archivedAt" IS NOT NULL AS archived,
            (extract(epoch FROM "updatedAt") * 1000)::bigint::text AS "versionMs"
     FROM "EventType" WHERE name = ANY($1::text[])`,
    [missing],
  );
  for (const row of rows) {
    const compiled = compileJsonSchema(row.schema);
    const type: ResolvedEventType = {
      name: row.name,
      archived: row.archived,
      versionMs: Number(row.versionMs),
      check: compiled.ok
        ? compiled.check
        : () => [
            {
              path: "",
              message: `The JSON Schema of ${row.name} can no longer be used (${compiled.issues[0]?.message ?? "invalid"}); an operator must fix it`,
            },
          ],
    };
    resolved.set(row.name, type);
    if (!type.archived) {
      if (activeTypes.size >= ACTIVE_TYPES_MAX) activeTypes.clear();
      activeTypes.set(row.name, type);
    }
  }
  return resolved;
}

/** The types an endpoint's form offers: Echo's own and the unarchived custom ones, plus any archived one it keeps. */
export async function subscribableEventTypes(
  { keep = [] }: { keep?: string[] } = {},
  db: Database = prisma,
): Promise<{ type: string; description: string; kind: EventTypeKind; archived: boolean }[]> {
  const catalog = await listEventCatalog({ includeArchived: keep.length > 0 }, db);
  return catalog
    .filter((entry) => !entry.archived || keep.includes(entry.type))
    .map(({ type, description, kind, archived }) => ({ type, description, kind, archived }));
}

/**
 * Checks an endpoint's event types against the catalog: each must exist; a newly chosen one must
 * not be archived (a subscription kept from before may); operational types only on the owner's
 * own endpoints (an OAuth app's endpoints never receive them).
 */
export async function checkSubscription(
  eventTypes: string[],
  { previous = [], byOAuthApp = false }: { previous?: string[]; byOAuthApp?: boolean },
  db: Database = prisma,
): Promise<void> {
  const custom = eventTypes.filter((type) => !isEventType(type));
  const rows =
    custom.length > 0
      ? await db.eventType.findMany({ where: { name: { in: custom } }, select: { name: true, archivedAt: true } })
      : [];
  const byName = new Map(rows.map((row) => [row.name, row]));
  for (const type of eventTypes) {
    if (isOperationalEventType(type) && byOAuthApp)
      throw new ServiceError(
        `${type} is an operational event: it goes to the user's own endpoints only, never to an app's.`,
        400,
        "eventTypes",
      );
    if (isEventType(type)) continue;
    const row = byName.get(type);
    if (!row) throw new ServiceError(`No event type ${type} in the catalog.`, 400, "eventTypes");
    if (row.archivedAt && !previous.includes(type))
      throw new ServiceError(
        `The event type ${type} is archived; it cannot be subscribed to any more.`,
        400,
        "eventTypes",
      );
  }
}
