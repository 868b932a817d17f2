import { z } from "zod";
import type { CatalogEntry } from "~/services/webhooks/event-types.server";

const IsoDateTime = z.iso.datetime({ offset: true });

/** One type of the event catalog as the JSON API shows it. */
export const ApiEventTypeSchema = z
  .object({
    type: z.string().meta({ description: "The type's name, e.g. `order.created`." }),
    kind: z.enum(["built-in", "operational", "custom"]).meta({
      description:
        "`built-in`: raised by Echo; `operational`: raised by the delivery pipeline about an owner's endpoints (sent only to endpoints that name it); `custom`: published through POST /api/v1/events.",
    }),
    description: z.string(),
    schema: z.record(z.string(), z.unknown()).meta({ description: "The payload's JSON Schema (draft 2020-12)." }),
    example: z.record(z.string(), z.unknown()).meta({ description: "An example payload." }),
    archived: z.boolean().meta({ description: "Archived: subscriptions stay, but nothing more can be published." }),
    createdAt: IsoDateTime.nullable().meta({ description: "Custom types only." }),
    updatedAt: IsoDateTime.nullable().meta({ description: "Custom types only." }),
  })
  .meta({ id: "EventType" });
export type ApiEventType = z.output<typeof ApiEventTypeSchema>;

export const ApiEventTypeListSchema = z.object({ data: z.array(ApiEventTypeSchema) });

export function presentApiEventType(entry: CatalogEntry): ApiEventType {
  return {
    type: entry.type,
    kind: entry.kind,
    description: entry.description,
    schema: entry.schema,
    example: entry.example,
    archived: entry.archived,
    createdAt: entry.createdAt?.toISOString() ?? null,
    updatedAt: entry.updatedAt?.toISOString() ?? null,
  };
}
