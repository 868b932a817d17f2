import { z } from "zod";
import { prisma, type Database } from "~/db.server";
import { DELIVERY_STATUSES } from "~/lib/webhooks/delivery-status";
import { getEndpoint, type EndpointActor } from "~/models/webhook-endpoint.server";
import { ServiceError } from "~/services/service-error.server";

export const STATS_WINDOWS = {
  "1h": { windowMs: 3_600_000, bucketMs: 5 * 60_000 },
  "24h": { windowMs: 24 * 3_600_000, bucketMs: 3_600_000 },
  "7d": { windowMs: 7 * 24 * 3_600_000, bucketMs: 6 * 3_600_000 },
  "30d": { windowMs: 30 * 24 * 3_600_000, bucketMs: 24 * 3_600_000 },
} as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;

export const StatsQuerySchema = z
  .object({
    window: z
      .enum(Object.keys(STATS_WINDOWS) as [StatsWindow, ...StatsWindow[]], {
        message: `window is one of ${Object.keys(STATS_WINDOWS).join(", ")}`,
      })
      .default("24h"),
  })
  .strict();

const PercentilesSchema = z.object({
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
type Percentiles = z.output<typeof PercentilesSchema>;
const StatusCountsSchema = z.object(
  Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, z.number().int()])) as Record<
    (typeof DELIVERY_STATUSES)[number],
    z.ZodNumber
  >,
);

/** The answer of GET /api/v1/endpoints/:id/stats (also what its OpenAPI document shows). */
export const EndpointStatsSchema = z
  .object({
    endpointId: z.string(),
    window: z.enum(Object.keys(STATS_WINDOWS) as [StatsWindow, ...StatsWindow[]]),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    counts: StatusCountsSchema.extend({ total: z.number().int() }),
    successRate: z
      .number()
      .nullable()
      .meta({ description: "Delivered / (delivered + failed) among finished deliveries; null when none finished." }),
    responseTimeMs: PercentilesSchema.meta({ description: "How long receivers took to answer one attempt, in ms." }),
    deliveryLatencyMs: PercentilesSchema.meta({
      description: "From the event to its successful delivery, retries included, in ms.",
    }),
    series: z.array(
      z.object({
        start: z.iso.datetime({ offset: true }),
        counts: StatusCountsSchema,
        responseTimeMs: PercentilesSchema,
      }),
    ),
  })
  .meta({ id: "EndpointStats" });
export type EndpointStats = z.output<typeof EndpointStatsSchema>;

const round = (value: number | null): number | null => (value === null ? null : Math.round(value * 10) / 10);
const percentiles = (row: { p50: number | null; p95: number | null; p99: number | null } | undefined): Percentiles => ({
  p50: round(row?.p50 ?? null),
  p95: round(row?.p95 ?? null),
  p99: round(row?.p99 ?? null),
});
const zeroCounts = () =>
  Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<
    (typeof DELIVERY_STATUSES)[number],
    number
  >;

/** Counts, success rate and latency percentiles of one endpoint's deliveries over a window, with a time series. */
export async function getEndpointStats(
  actor: EndpointActor,
  endpointId: string,
  window: StatsWindow,
  db: Database = prisma,
  now: Date = new Date(),
): Promise<EndpointStats> {
  const endpoint = await getEndpoint(db, actor, endpointId);
  if (!endpoint) throw new ServiceError("No such endpoint.", 404);
  const { windowMs, bucketMs } = STATS_WINDOWS[window];
  const from = new Date(Math.floor((now.getTime() - windowMs) / bucketMs) * bucketMs + bucketMs);
  const bucketSeconds = bucketMs / 1000;

  const [byStatus, responseTimes, latencies, statusSeries, responseSeries] = await Promise.all([
    db.$queryRaw<{ status: string; count: number }[]>`
      SELECT status::text, count(*)::int AS count FROM "WebhookDelivery"
      WHERE "endpointId" = ${endpoint.id} AND "createdAt" >= ${from}
      GROUP BY status`,
    db.$queryRaw<{ p50: number | null; p95: number | null; p99: number | null }[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a."durationMs") AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY a."durationMs") AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY a."durationMs") AS p99
      FROM "DeliveryAttempt" a JOIN "WebhookDelivery" d ON d.id = a."deliveryId"
      WHERE d."endpointId" = ${endpoint.id} AND a."startedAt" >= ${from} AND a."responseStatus" IS NOT NULL`,
    db.$queryRaw<{ p50: number | null; p95: number | null; p99: number | null }[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
      FROM (
        SELECT extract(epoch FROM (d."completedAt" - e."createdAt")) * 1000 AS ms
        FROM "WebhookDelivery" d JOIN "WebhookEvent" e ON e.id = d."eventId"
        WHERE d."endpointId" = ${endpoint.id} AND d.status = 'SUCCESS' AND d."completedAt" >= ${from}
      ) AS delivered`,
    db.$queryRaw<{ bucket: Date; status: string; count: number }[]>`
      SELECT date_bin(make_interval(secs => ${bucketSeconds}), "createdAt", ${from}) AS bucket, status::text,
             count(*)::int AS count
      FROM "WebhookDelivery"
      WHERE "endpointId" = ${endpoint.id} AND "createdAt" >= ${from}
      GROUP BY 1, 2`,
    db.$queryRaw<{ bucket: Date; p50: number | null; p95: number | null; p99: number | null }[]>`
      SELECT date_bin(make_interval(secs => ${bucketSeconds}), a."startedAt", ${from}) AS bucket,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY a."durationMs") AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY a."durationMs") AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY a."durationMs") AS p99
      FROM "DeliveryAttempt" a JOIN "WebhookDelivery" d ON d.id = a."deliveryId"
      WHERE d."endpointId" = ${endpoint.id} AND a."startedAt" >= ${from} AND a."responseStatus" IS NOT NULL
      GROUP BY 1`,
  ]);

  const counts = { ...zeroCounts(), total: 0 };
  for (const row of byStatus) {
    counts[row.status as (typeof DELIVERY_STATUSES)[number]] = row.count;
    counts.total += row.count;
  }
  const finished = counts.SUCCESS + counts.FAILED;

  const series: EndpointStats["series"] = [];
  for (let start = from.getTime(); start <= now.getTime(); start += bucketMs) {
    series.push({ start: new Date(start).toISOString(), counts: zeroCounts(), responseTimeMs: percentiles(undefined) });
  }
  const indexOf = (bucket: Date) => Math.floor((bucket.getTime() - from.getTime()) / bucketMs);
  for (const row of statusSeries) {
    const point = series[indexOf(row.bucket)];
    if (point) point.counts[row.status as (typeof DELIVERY_STATUSES)[number]] = row.count;
  }
  for (const row of responseSeries) {
    const point = series[indexOf(row.bucket)];
    if (point) point.responseTimeMs = percentiles(row);
  }

  return {
    endpointId: endpoint.id,
    window,
    from: from.toISOString(),
    to: now.toISOString(),
    counts,
    successRate: finished === 0 ? null : Math.round((counts.SUCCESS / finished) * 10_000) / 10_000,
    responseTimeMs: percentiles(responseTimes[0]),
    deliveryLatencyMs: percentiles(latencies[0]),
    series,
  };
}
