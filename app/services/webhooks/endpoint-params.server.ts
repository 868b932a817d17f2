import { z } from "zod";

const ParamsSchema = z.object({ endpointId: z.string().min(1).max(64) });

/** The endpoint id from the URL; one that cannot be an endpoint's is simply not found (404, not a 500). */
export function endpointIdParam(params: unknown): string {
  const parsed = ParamsSchema.safeParse(params);
  if (!parsed.success) throw new Response("No such endpoint.", { status: 404 });
  return parsed.data.endpointId;
}
