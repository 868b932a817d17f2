import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ReceivedWebhook = {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The exact bytes received, as a string. */
  body: string;
  receivedAt: number;
};

/** How the receiver answers one request: a status (with optional headers/body), or misbehaviour. */
export type ReceiverResponse =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | { hang: true }
  | { reset: true }
  | { trickle: { status: number; bytes: number; intervalMs: number } };

/**
 * A real HTTP server on 127.0.0.1 that records every webhook it receives. Responses come
 * from `respond` (a queue of scripted answers, then the fallback), so tests can say
 * "500, 500, then 200".
 */
export async function startWebhookReceiver(fallback: ReceiverResponse = { status: 200, body: "ok" }) {
  const received: ReceivedWebhook[] = [];
  const script: ReceiverResponse[] = [];
  let defaultResponse = fallback;
  const waiters: { count: number; resolve: () => void }[] = [];
  const openSockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
      });
      for (const waiter of [...waiters]) {
        if (received.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const response = script.shift() ?? defaultResponse;
      if ("hang" in response) return;
      if ("reset" in response) {
        req.socket.destroy();
        return;
      }
      if ("trickle" in response) {
        const { status, bytes, intervalMs } = response.trickle;
        res.writeHead(status, { "Content-Type": "text/plain" });
        let sent = 0;
        const timer = setInterval(() => {
          if (sent >= bytes || res.destroyed) {
            clearInterval(timer);
            res.end();
            return;
          }
          res.write("x");
          sent++;
        }, intervalMs);
        return;
      }
      const send = () => {
        res.writeHead(response.status, { "Content-Type": "text/plain", ...response.headers });
        res.end(response.body ?? "");
      };
      if (response.delayMs) setTimeout(send, response.delayMs);
      else send();
    });
  });
  server.on("connection", (socket) => {
    openSockets.add(socket);
    socket.on("close", () => openSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    port,
    received,
    /** Answers the next requests in this order, then falls back to the default. */
    respondWith(...responses: ReceiverResponse[]) {
      script.push(...responses);
    },
    setDefault(response: ReceiverResponse) {
      defaultResponse = response;
    },
    waitForCount(count: number, timeoutMs = 15_000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`Expected ${count} webhooks within ${timeoutMs} ms, got ${received.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close(): Promise<void> {
      for (const socket of openSockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
