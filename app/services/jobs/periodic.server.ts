import { logger } from "~/logger.server";

/**
 * Runs `work` every `intervalMs`, one run at a time (the next is scheduled when the previous
 * ends, so a slow run never overlaps itself), the first after `firstAfterMs`. A failure is
 * logged as "<name> failed; it will try again" and the next run goes ahead. The returned
 * function stops it and waits for a run in progress. The timer does not keep the process alive.
 */
export function runPeriodically({
  name,
  intervalMs,
  firstAfterMs = intervalMs,
  work,
}: {
  name: string;
  intervalMs: number;
  firstAfterMs?: number;
  work: () => Promise<void>;
}): () => Promise<void> {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const tick = async () => {
    if (stopped) return;
    current = work().catch((error: unknown) => logger.error({ err: error }, `${name} failed; it will try again`));
    await current;
    if (!stopped) schedule(intervalMs);
  };
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => void tick(), ms);
    timer.unref();
  };
  schedule(firstAfterMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
