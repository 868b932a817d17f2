import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { Database } from "~/db.server";
import { outboundDispatcher } from "~/services/outbound.server";
import {
  attemptClaimedDelivery,
  attemptRecorder,
  claimDueDeliveries,
  releaseDeliveryLeases,
  type ClaimedDelivery,
} from "~/services/webhooks/delivery-queue.server";

export type DeliveryQueueOptions = {
  db: Database;
  logger: Logger;
  workerId: string;
  /** Deliveries in flight at once in this worker (`concurrency.total` of trigger/webhook-delivery.ts). */
  limit: number;
  /** In flight at once per target in this worker (`concurrency.perKey`): a hanging receiver holds at most these. */
  perTarget: number;
  /** The longest sleep with nothing to do; wake-ups (NOTIFY, a finished attempt) and due times cut it short. */
  pollIntervalMs: number;
  /** The most deliveries one claim takes. */
  claimBatchSize?: number;
  /** On stop, how long attempts in flight may take to finish before their leases are handed back. */
  shutdownGraceMs?: number;
  dispatcher?: Dispatcher;
};

export type DeliveryQueueState = {
  limit: number;
  perTarget: number;
  /** Requests in flight (at most `limit`). */
  inFlight: number;
  /** Attempts whose request is over and whose outcome is being recorded. */
  recording: number;
  /** This worker's deliveries in flight per target (an OAuth app's or an endpoint's id). */
  inFlightByTarget: Map<string, number>;
};

const DEFAULT_CLAIM_BATCH = 200;

/**
 * Attempts not yet recorded (in flight or being recorded) are at most this many times `limit`:
 * a slot is free again when its request is over, not when its outcome is committed, but a
 * database slower than the receivers must hold the claims back rather than let outcomes pile up.
 */
const UNRECORDED_LIMIT_FACTOR = 2;

/**
 * The embedded engine's delivery worker (ADR 011): claims due deliveries from WebhookDelivery
 * (claimDueDeliveries), sends each (attemptClaimedDelivery) and records them in shared
 * statements. One claim at a time per process; a claim starts as soon as there are free slots
 * and a reason to look: a wake-up (new or rescheduled deliveries NOTIFY), a finished attempt
 * while the queue has a backlog or the target was at its limit, the next due time, or the poll.
 */
export class DeliveryQueueWorker {
  private readonly inFlight = new Map<string, string>();
  private readonly inFlightByTarget = new Map<string, number>();
  private readonly executions = new Set<Promise<void>>();
  private readonly claimBatchSize: number;
  private readonly dispatcher: Dispatcher;
  private running = false;
  private loop: Promise<void> | undefined;
  private woken = false;
  private wakeSleeper: (() => void) | undefined;
  /** The last claim took all it asked for: more may be due behind it. */
  private backlog = false;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.claimBatchSize = options.claimBatchSize ?? DEFAULT_CLAIM_BATCH;
    this.dispatcher = options.dispatcher ?? outboundDispatcher();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New or rescheduled deliveries: claim now (or right after the claim in progress). */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  state(): DeliveryQueueState {
    return {
      limit: this.options.limit,
      perTarget: this.options.perTarget,
      inFlight: this.inFlight.size,
      recording: this.executions.size - this.inFlight.size,
      inFlightByTarget: new Map(this.inFlightByTarget),
    };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const finished = Promise.all([...this.executions]).then(() => true);
    const graceful = await Promise.race([
      finished,
      new Promise<boolean>((resolve) =>
        setTimeout(() => resolve(false), this.options.shutdownGraceMs ?? 10_000).unref(),
      ),
    ]);
    if (!graceful) {
      // What is still sending goes back to the queue at once instead of waiting out its lease.
      await releaseDeliveryLeases(this.options.db, this.options.workerId).catch((error: unknown) =>
        this.options.logger.error({ err: error }, "Handing back delivery leases failed"),
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakeSleeper = done;
    });
  }

  private async run(): Promise<void> {
    const { db, logger, workerId, limit, perTarget, pollIntervalMs } = this.options;
    while (this.running) {
      this.woken = false;
      const free = Math.min(limit - this.inFlight.size, limit * UNRECORDED_LIMIT_FACTOR - this.executions.size);
      let sleepMs = pollIntervalMs;
      if (free > 0) {
        const wanted = Math.min(free, this.claimBatchSize);
        try {
          const { claimed, nextDueAt, more } = await claimDueDeliveries(db, {
            workerId,
            wanted,
            perTarget,
            inFlightByTarget: this.inFlightByTarget,
          });
          for (const row of claimed) this.execute(row);
          this.backlog = more;
          if (this.backlog) continue;
          if (nextDueAt) sleepMs = Math.min(sleepMs, nextDueAt.getTime() - Date.now() + 5);
        } catch (error) {
          logger.error({ err: error }, "Claiming deliveries failed; retrying");
        }
      }
      await this.sleep(sleepMs);
    }
  }

  private execute(row: ClaimedDelivery): void {
    const target = row.oauthClientId ?? row.endpointId ?? "";
    this.inFlight.set(row.id, target);
    const before = this.inFlightByTarget.get(target) ?? 0;
    this.inFlightByTarget.set(target, before + 1);
    const { db, logger } = this.options;
    // The slot is the request's: it is free once the request is over, while the outcome is recorded.
    const releaseSlot = () => {
      if (!this.inFlight.delete(row.id)) return;
      const count = (this.inFlightByTarget.get(target) ?? 1) - 1;
      if (count > 0) this.inFlightByTarget.set(target, count);
      else this.inFlightByTarget.delete(target);
      // Worth a claim if deliveries were left behind, or this target was at its limit.
      if (this.backlog || count + 1 >= this.options.perTarget) this.wake();
    };
    const execution: Promise<void> = attemptClaimedDelivery(row, {
      db,
      dispatcher: this.dispatcher,
      records: attemptRecorder(db),
      onSent: releaseSlot,
    })
      .catch((error: unknown) => logger.error({ err: error, deliveryId: row.id }, "Delivery attempt failed"))
      .finally(() => {
        releaseSlot();
        this.executions.delete(execution);
        // Claims may have waited for outcomes to be recorded (UNRECORDED_LIMIT_FACTOR).
        if (this.backlog) this.wake();
      });
    this.executions.add(execution);
  }
}
