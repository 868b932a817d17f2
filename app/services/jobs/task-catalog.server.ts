import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { lifecycleHooks, resourceCatalog, type RetryOptions } from "@trigger.dev/core/v3";
import { StandardLifecycleHooksManager, StandardResourceCatalog } from "@trigger.dev/core/v3/workers";

/** What the embedded engine needs to run one task exactly as its definition in trigger/ says. */
export type LoadedTask = {
  id: string;
  queueName: string;
  concurrencyLimit: number;
  /** `concurrency.perKey`: at most this many runs at once per `concurrencyKey` (as on Trigger.dev). */
  concurrencyPerKey: number | undefined;
  retry: RetryOptions | undefined;
  maxDurationSeconds: number | undefined;
  run: (payload: unknown, params: { ctx: unknown; signal: AbortSignal; init?: unknown }) => Promise<unknown>;
  catchError: ((params: Record<string, unknown>) => unknown) | undefined;
  onFailure: ((params: Record<string, unknown>) => Promise<unknown> | unknown) | undefined;
};

export type TaskCatalog = Map<string, LoadedTask>;

/** Used when a task sets no concurrency: Trigger.dev's own default is the environment's limit. */
export const DEFAULT_QUEUE_CONCURRENCY = 10;

let installed: StandardResourceCatalog | undefined;

/**
 * Outside a Trigger.dev worker, `task()` registers nothing: the SDK's catalog and hook
 * manager are no-ops. Installing the standard ones (as Trigger.dev's own worker does)
 * before the task modules load makes their definitions available here.
 */
function installCatalog(): StandardResourceCatalog {
  if (!installed) {
    installed = new StandardResourceCatalog();
    resourceCatalog.setGlobalResourceCatalog(installed);
    lifecycleHooks.setGlobalLifecycleHooksManager(new StandardLifecycleHooksManager());
  }
  return installed;
}

export async function taskFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts"))
    .map((entry) => path.join(dir, entry.name))
    .sort();
}

export async function loadTaskCatalog(files: string[]): Promise<TaskCatalog> {
  const catalog = installCatalog();
  for (const file of files) {
    const absolute = path.resolve(file);
    catalog.setCurrentFileContext(absolute, absolute);
    try {
      await import(pathToFileURL(absolute).href);
    } finally {
      catalog.clearCurrentFileContext();
    }
  }

  const queueLimits = new Map(catalog.listQueueManifests().map((queue) => [queue.name, queue.concurrencyLimit]));
  const tasks: TaskCatalog = new Map();
  for (const manifest of catalog.listTaskManifests()) {
    const withFunctions = catalog.getTask(manifest.id);
    if (!withFunctions) continue;
    const queueName = manifest.queue?.name ?? `task/${manifest.id}`;
    const concurrencyLimit =
      manifest.concurrency?.inline?.total ??
      queueLimits.get(queueName) ??
      manifest.queue?.concurrencyLimit ??
      DEFAULT_QUEUE_CONCURRENCY;
    tasks.set(manifest.id, {
      id: manifest.id,
      queueName,
      concurrencyLimit: concurrencyLimit ?? DEFAULT_QUEUE_CONCURRENCY,
      concurrencyPerKey: manifest.concurrency?.inline?.perKey,
      retry: manifest.retry,
      maxDurationSeconds: manifest.maxDuration,
      run: withFunctions.fns.run as LoadedTask["run"],
      catchError: lifecycleHooks.getTaskCatchErrorHook(manifest.id) as LoadedTask["catchError"],
      onFailure: lifecycleHooks.getTaskFailureHook(manifest.id) as LoadedTask["onFailure"],
    });
  }
  return tasks;
}
