import path from "node:path";
import type { Env } from "../app/lib/env-schema.ts";

export type RunningWorker = { stop(): Promise<void> };

/**
 * The embedded job engine and the deletion of old finished runs, for deployments without
 * Trigger.dev; the outbox sweeper, the stuck-delivery sweeper, the delivery log's retention and
 * the deletion of expired idempotency keys, in both modes.
 * Runs inside every `npm start` process unless WORKER_ENABLED=false (a process that only serves
 * HTTP); several processes can share one PostgreSQL.
 */
export async function startWorker(env: Env): Promise<RunningWorker> {
  const { prisma } = await import("../app/db.server.ts");
  const { logger } = await import("../app/logger.server.ts");
  const { startOutboxSweeper } = await import("../app/services/webhooks/outbox-dispatcher.server.ts");
  const stopOutboxSweeper = startOutboxSweeper({ intervalMs: env.OUTBOX_SWEEP_INTERVAL_MS });
  const { startStuckDeliverySweeper } = await import("../app/services/webhooks/stuck-delivery-sweeper.server.ts");
  // Sweeping a few times per grace period bounds how late a lost run is replaced: at most 1.5 × the grace.
  const stopDeliverySweeper = startStuckDeliverySweeper({
    graceSeconds: env.DELIVERY_SWEEP_AFTER_SECONDS,
    intervalMs: Math.min(60_000, (env.DELIVERY_SWEEP_AFTER_SECONDS * 1000) / 2),
  });
  const { startIntegrationHealthScheduler } =
    await import("../app/services/integrations/check-integration-health.server.ts");
  const stopHealthScheduler =
    env.INTEGRATION_HEALTH_CHECK_INTERVAL_MINUTES > 0
      ? startIntegrationHealthScheduler({ intervalMs: env.INTEGRATION_HEALTH_CHECK_INTERVAL_MINUTES * 60_000 })
      : async () => undefined;
  const { startDeliveryRetention } = await import("../app/services/webhooks/delivery-retention.server.ts");
  const stopDeliveryRetention =
    env.DELIVERY_RETENTION_DAYS > 0
      ? startDeliveryRetention({ retentionDays: env.DELIVERY_RETENTION_DAYS, intervalMs: 60 * 60_000 })
      : async () => undefined;
  const { startIdempotencyKeyCleanup } = await import("../app/services/webhooks/publish.server.ts");
  // Expired keys are never honoured; this only keeps the table from growing.
  const stopKeyCleanup = startIdempotencyKeyCleanup({ intervalMs: 60 * 60_000 });
  const stopSweeper = async () => {
    await Promise.all([
      stopOutboxSweeper(),
      stopDeliverySweeper(),
      stopHealthScheduler(),
      stopDeliveryRetention(),
      stopKeyCleanup(),
    ]);
  };

  if (env.TRIGGER_SECRET_KEY) {
    logger.info(
      "TRIGGER_SECRET_KEY is set: tasks run on Trigger.dev; this process only sweeps the outbox and stuck deliveries, and queues health checks",
    );
    return { stop: stopSweeper };
  }

  const { loadTaskCatalog, taskFilesIn } = await import("../app/services/jobs/task-catalog.server.ts");
  const { EmbeddedTaskEngine } = await import("../app/services/jobs/embedded-engine.server.ts");
  const catalog = await loadTaskCatalog(await taskFilesIn(path.resolve("trigger")));
  const engine = new EmbeddedTaskEngine(catalog, {
    db: prisma,
    databaseUrl: env.DATABASE_URL as string,
    logger,
    leaseMs: env.ENGINE_LEASE_MS,
  });
  await engine.start();
  const { startTaskRunRetention } = await import("../app/services/jobs/task-run-retention.server.ts");
  const stopRetention =
    env.TASK_RUN_RETENTION_DAYS > 0
      ? startTaskRunRetention({ retentionDays: env.TASK_RUN_RETENTION_DAYS, intervalMs: 60 * 60_000 })
      : async () => undefined;
  return {
    stop: async () => {
      await Promise.all([stopSweeper(), stopRetention()]);
      await engine.stop();
    },
  };
}
