import { GroupCommit } from "./group-commit.server";

/**
 * What a run of a task ended with, in the engine's terms: done, again at a time the task
 * chose, or never again. The engine applies it as it applies the task's own run + catchError.
 */
export type ExecutorOutcome =
  | { kind: "completed" }
  | { kind: "retry"; retryAt: Date; reason: string }
  /** `error`, when there is one, gives the attempt's record its stack. */
  | { kind: "abort"; reason: string; error?: Error };

export type EmbeddedExecutor = (payload: unknown, options: { signal: AbortSignal }) => Promise<ExecutorOutcome>;

export type EmbeddedExecutors = Map<string, EmbeddedExecutor>;

let fanOuts: GroupCommit<string, { deliveries: number } | Error> | undefined;

/** Fan-out runs in flight together share their statements (see fanOutEvents). */
async function fanOutGrouped(payload: unknown): Promise<ExecutorOutcome> {
  const { fanOutEvents, EventNotFoundError } = await import("~/services/webhooks/integration-fanout.server");
  fanOuts ??= new GroupCommit((eventIds) => fanOutEvents(eventIds), { maxBatch: 200 });
  const result = await fanOuts.add((payload as { eventId: string }).eventId);
  // As the fan-out tasks do: an event that does not exist will not appear by retrying.
  if (result instanceof EventNotFoundError) return { kind: "abort", reason: result.message, error: result };
  if (result instanceof Error) throw result;
  return { kind: "completed" };
}

/**
 * Tasks that, on the embedded engine only, run through an implementation that shares its
 * database round trips with the other runs in flight (group commit) instead of the task's
 * own `run`. Same rows, same outcomes; Trigger.dev runs the task files. (`webhook-delivery` has no
 * runs at all on this engine: its deliveries are claimed from their own rows, ADR 011.)
 */
export function defaultEmbeddedExecutors(): EmbeddedExecutors {
  return new Map<string, EmbeddedExecutor>([
    ["oauth-integration-webhook-delivery", fanOutGrouped],
    ["webhook-event-fanout", fanOutGrouped],
  ]);
}
