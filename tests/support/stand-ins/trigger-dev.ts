import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { BatchItemNDJSON, CreateBatchRequestBody, TriggerTaskRequestBody, parsePacket } from "@trigger.dev/core/v3";
import { listen, readBody, sendJson } from "./http";

/** One item the SDK streamed, decoded as the platform decodes it. */
export type TriggeredItem = {
  /** The batch and position it came in; null for a single `trigger`. */
  batchId: string | null;
  index: number | null;
  task: string;
  payload: unknown;
  idempotencyKey: string | undefined;
  idempotencyKeyOptions: { key: string; scope: "run" | "attempt" | "global" } | undefined;
  concurrencyKey: string | undefined;
  delay: string | Date | undefined;
  /** The run the item was given: a new one, or the run that already holds its idempotency key. */
  runId: string;
  cached: boolean;
};

export type TriggerDevRequest = { method: string; path: string; authorization: string | undefined; status: number };

type Batch = { id: string; runCount: number; taskIdentifiers: string[] | undefined; indexes: Set<number> };

/**
 * Trigger.dev's trigger API as SDK 4.8 uses it. `tasks.trigger()`: `POST /api/v1/tasks/:task/trigger`
 * with one item, answered `{ id }` (the run's id). `tasks.batchTrigger()`, two phases:
 * `POST /api/v3/batches` creates a batch for `runCount` items (202, `{ id, runCount, isCached }`), then
 * `POST /api/v3/batches/:id/items` streams the items as NDJSON and answers
 * `{ id, itemsAccepted, itemsDeduplicated, sealed }` once all have arrived. Bodies are checked with the
 * SDK's own schemas, as the platform does; a wrong or missing bearer token gets 401. An item whose
 * idempotency key already has a run of its task gets that run (as on the platform), so `runs` holds
 * each run once while `triggered` holds every item received.
 *
 * `behaviour.failWith = 503` answers every request with that status, in plain text (an outage at the load
 * balancer: no `x-should-retry`, so the SDK's own retry rules apply); `behaviour.stall = true` holds requests
 * unanswered until `release()` (an API that accepts connections and never answers).
 */
export async function startTriggerDevStandIn({
  secretKey = `tr_dev_${randomBytes(10).toString("hex")}`,
  port = 0,
}: { secretKey?: string; port?: number } = {}) {
  const batches = new Map<string, Batch>();
  const runs = new Map<string, { runId: string; task: string; idempotencyKey: string }>();
  const triggered: TriggeredItem[] = [];
  const requests: TriggerDevRequest[] = [];
  const behaviour = { failWith: null as number | null, stall: false };
  const stalled: (() => void)[] = [];

  /** A new run, or the one that already holds the idempotency key for this task (as on the platform). */
  const runFor = (task: string, idempotencyKey: string | undefined) => {
    const runKey = idempotencyKey ? `${task}\n${idempotencyKey}` : undefined;
    const existing = runKey ? runs.get(runKey) : undefined;
    const runId = existing?.runId ?? `run_${randomBytes(10).toString("hex")}`;
    if (runKey && !existing) runs.set(runKey, { runId, task, idempotencyKey: idempotencyKey! });
    return { runId, cached: Boolean(existing) };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const record = (status: number) =>
      requests.push({ method: req.method ?? "", path: url.pathname, authorization: req.headers.authorization, status });
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record(status);
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };

    if (behaviour.failWith) {
      // As a load balancer in front of a down API answers: a status and its reason, in plain text.
      record(behaviour.failWith);
      res.writeHead(behaviour.failWith, { "Content-Type": "text/plain" });
      return res.end(http.STATUS_CODES[behaviour.failWith] ?? "Error");
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) return answer(401, { error: "Invalid API Key" });

    const single = /^\/api\/v1\/tasks\/([^/]+)\/trigger$/.exec(url.pathname);
    if (req.method === "POST" && single) {
      const parsed = TriggerTaskRequestBody.safeParse(JSON.parse((await readBody(req)) || "null"));
      if (!parsed.success) return answer(400, { error: parsed.error.message });
      const task = decodeURIComponent(single[1]!);
      const options = parsed.data.options ?? {};
      const { runId, cached } = runFor(task, options.idempotencyKey);
      triggered.push({
        batchId: null,
        index: null,
        task,
        payload: await parsePacket({
          data: typeof parsed.data.payload === "string" ? parsed.data.payload : JSON.stringify(parsed.data.payload),
          dataType: options.payloadType ?? "application/json",
        }),
        idempotencyKey: options.idempotencyKey,
        idempotencyKeyOptions: options.idempotencyKeyOptions,
        concurrencyKey: options.concurrencyKey,
        delay: options.delay,
        runId,
        cached,
      });
      return answer(
        200,
        { id: runId, isCached: cached },
        { "x-trigger-jwt-claims": JSON.stringify({ sub: "stand-in-env", pub: true }) },
      );
    }

    if (req.method === "POST" && url.pathname === "/api/v3/batches") {
      const parsed = CreateBatchRequestBody.safeParse(JSON.parse((await readBody(req)) || "null"));
      if (!parsed.success) return answer(400, { error: parsed.error.message });
      const batch: Batch = {
        id: `batch_${randomBytes(10).toString("hex")}`,
        runCount: parsed.data.runCount,
        taskIdentifiers: parsed.data.taskIdentifiers,
        indexes: new Set(),
      };
      batches.set(batch.id, batch);
      return answer(
        202,
        { id: batch.id, runCount: batch.runCount, isCached: false },
        { "x-trigger-jwt-claims": JSON.stringify({ sub: "stand-in-env", pub: true }) },
      );
    }

    const items = /^\/api\/v3\/batches\/([^/]+)\/items$/.exec(url.pathname);
    if (req.method === "POST" && items) {
      if (!(req.headers["content-type"] ?? "").includes("application/x-ndjson"))
        return answer(415, { error: "Content-Type must be application/x-ndjson or application/ndjson" });
      const batch = batches.get(decodeURIComponent(items[1]!));
      if (!batch) return answer(404, { error: "Batch not found" });
      let accepted = 0;
      let deduplicated = 0;
      for (const line of (await readBody(req)).split("\n").filter((l) => l.trim() !== "")) {
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          return answer(400, { error: `Invalid JSON: ${line.slice(0, 100)}` });
        }
        const item = BatchItemNDJSON.safeParse(json);
        if (!item.success) return answer(422, { error: item.error.message });
        if (batch.taskIdentifiers && !batch.taskIdentifiers.includes(item.data.task))
          return answer(422, { error: `Task ${item.data.task} was not declared when the batch was created` });
        if (batch.indexes.has(item.data.index)) {
          deduplicated++;
          continue;
        }
        batch.indexes.add(item.data.index);
        accepted++;
        const options = item.data.options ?? {};
        const { runId, cached } = runFor(item.data.task, options.idempotencyKey);
        triggered.push({
          batchId: batch.id,
          index: item.data.index,
          task: item.data.task,
          payload: await parsePacket({
            data: typeof item.data.payload === "string" ? item.data.payload : JSON.stringify(item.data.payload),
            dataType: options.payloadType ?? "application/json",
          }),
          idempotencyKey: options.idempotencyKey,
          idempotencyKeyOptions: options.idempotencyKeyOptions,
          concurrencyKey: options.concurrencyKey,
          delay: options.delay,
          runId,
          cached,
        });
      }
      const sealed = batch.indexes.size === batch.runCount;
      return answer(200, {
        id: batch.id,
        itemsAccepted: accepted,
        itemsDeduplicated: deduplicated,
        sealed,
        ...(sealed ? {} : { enqueuedCount: batch.indexes.size, expectedCount: batch.runCount }),
      });
    }

    answer(404, { error: "Not found" });
  };

  const standIn = await listen((req, res) => {
    const go = () =>
      void handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(error) });
      });
    if (behaviour.stall) stalled.push(go);
    else go();
  }, port);

  return {
    ...standIn,
    secretKey,
    behaviour,
    triggered,
    requests,
    /** Each run the stand-in holds, once, whatever number of items asked for it. */
    runs: () => [...runs.values()],
    /** Answers the held requests as the API would have, and stops holding new ones. */
    release() {
      behaviour.stall = false;
      for (const go of stalled.splice(0)) go();
    },
  };
}

/**
 * Starts the stand-in and points Echo at it (TRIGGER_SECRET_KEY, TRIGGER_API_URL). env.server.ts
 * and jobs.server.ts read the environment when first imported: import app modules only after this.
 */
export async function pointEchoAtTriggerDevStandIn(): Promise<Awaited<ReturnType<typeof startTriggerDevStandIn>>> {
  const standIn = await startTriggerDevStandIn();
  process.env.TRIGGER_SECRET_KEY = standIn.secretKey;
  process.env.TRIGGER_API_URL = standIn.url;
  return standIn;
}

/** What `idempotencyKeys.create(key, { scope: "global" })` sends: SHA-256 of the key alone, in hex. */
export function globalIdempotencyKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
