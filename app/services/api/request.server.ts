import { z } from "zod";
import { problem, validationProblem } from "./problem.server";

/** Ids in URLs: anything else cannot name a record, so it is simply not found. */
export const EndpointParamsSchema = z.object({
  endpointId: z.string().min(1).max(100).meta({ description: "The endpoint's id." }),
});
export const DeliveryParamsSchema = z.object({
  deliveryId: z.string().min(1).max(100).meta({ description: "The delivery's id." }),
});
export const OAuthAppParamsSchema = z.object({
  appId: z.string().min(1).max(100).meta({ description: "The OAuth app's id (not its client_id)." }),
});

export const EventTypeParamsSchema = z.object({
  eventType: z.string().min(1).max(100).meta({ description: "The event type's name, e.g. `order.created`." }),
});

export function eventTypeFrom(params: unknown): string {
  const parsed = EventTypeParamsSchema.safeParse(params);
  if (!parsed.success) throw problem(404, "Not found", "No such event type.");
  return parsed.data.eventType;
}

/** The `Idempotency-Key` request header, as sent (null when absent). */
export function idempotencyKeyHeader(request: Request): string | null {
  return request.headers.get("Idempotency-Key");
}

export const NO_STORE = { "Cache-Control": "no-store" } as const;

export function endpointIdFrom(params: unknown): string {
  const parsed = EndpointParamsSchema.safeParse(params);
  if (!parsed.success) throw problem(404, "Not found", "No such endpoint.");
  return parsed.data.endpointId;
}

export function deliveryIdFrom(params: unknown): string {
  const parsed = DeliveryParamsSchema.safeParse(params);
  if (!parsed.success) throw problem(404, "Not found", "No such delivery.");
  return parsed.data.deliveryId;
}

/** Parses the query string with a strict schema: an unknown parameter is refused, not ignored. */
export function readQuery<T extends z.ZodType>(
  request: Request,
  schema: T,
): { ok: true; data: z.output<T> } | { ok: false; response: Response } {
  const params = new URL(request.url).searchParams;
  const query: Record<string, string> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (values.length > 1) {
      return {
        ok: false,
        response: problem(400, "Invalid request", `Give \`${name}\` once.`, {
          errors: [{ field: name, message: "Given more than once" }],
        }),
      };
    }
    query[name] = values[0]!;
  }
  const parsed = schema.safeParse(query);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, response: validationProblem(parsed.error) };
}
