import { z } from "zod";

/** A run's id in a URL: a TaskRun's id, or `delivery_<deliveryId>`; anything else cannot name one. */
export const RunParamsSchema = z.object({
  runId: z
    .string()
    .min(1)
    .max(120)
    .regex(/^[\w.:-]+$/)
    .meta({ description: "A TaskRun's id, or `delivery_<deliveryId>` for a delivery's run." }),
});

/** The run id of a URL, or null when it cannot be one (the caller answers 404). */
export function runIdOf(params: unknown): string | null {
  const parsed = RunParamsSchema.safeParse(params);
  return parsed.success ? parsed.data.runId : null;
}
