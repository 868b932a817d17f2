import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { verifyWebhook } from "~/lib/webhooks/signing";

/** How the receiver treats one request. */
export type FaultBehaviour =
  | { status: number; headers?: Record<string, string>; delayMs?: number }
  /** Reads the request and never answers: the sender must time out. */
  | { hang: true }
  /** Starts the status line, then resets the connection before the response is complete. */
  | { resetMidResponse: true }
  /** Sends the status line at once, then the body one byte per interval. */
  | { trickle: { status: number; bytes: number; intervalMs: number } };

export type ReceivedRequest = {
  deliveryId: string;
  /** `integration.id` of the payload: which event this is, independently of Echo's delivery rows. */
  accountId: string;
  signatureValid: boolean;
  /** The receiver processed it and answered 2xx (whether or not the answer reached Echo). */
  acknowledged: boolean;
  at: number;
};

/**
 * A webhook receiver on 127.0.0.1 that misbehaves on purpose. `behave` decides each answer
 * from how many times this delivery was seen (1 for the first request), so a test can say
 * "the first attempt of every delivery hangs". Every request is checked against the app's
 * signing secret and recorded; an acknowledgement counts when the receiver answers 2xx.
 */
export async function startFaultReceiver({
  secret,
  behave = () => ({ status: 200 }),
}: {
  secret: string;
  behave?: (seenBefore: number, request: { deliveryId: string }) => FaultBehaviour;
}) {
  const requests: ReceivedRequest[] = [];
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const deliveryId = String(req.headers["webhook-id"] ?? "");
      let accountId = "";
      try {
        accountId = String((JSON.parse(body) as { integration?: { id?: string } }).integration?.id ?? "");
      } catch {
        accountId = "";
      }
      const record: ReceivedRequest = {
        deliveryId,
        accountId,
        signatureValid: verifyWebhook(body, req.headers, [secret]).ok,
        acknowledged: false,
        at: Date.now(),
      };
      requests.push(record);
      const count = (seen.get(deliveryId) ?? 0) + 1;
      seen.set(deliveryId, count);
      const behaviour = behave(count, { deliveryId });

      if ("hang" in behaviour) return;
      if ("resetMidResponse" in behaviour) {
        req.socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/pl");
        later(20, () => req.socket.resetAndDestroy());
        return;
      }
      if ("trickle" in behaviour) {
        const { status, bytes, intervalMs } = behaviour.trickle;
        res.writeHead(status, { "Content-Type": "text/plain", "Content-Length": String(bytes) });
        res.flushHeaders();
        record.acknowledged = status >= 200 && status < 300;
        let sent = 0;
        const drip = () => {
          if (closed || res.destroyed || sent >= bytes) return void res.end();
          res.write("x");
          sent++;
          later(intervalMs, drip);
        };
        drip();
        return;
      }
      const answer = () => {
        if (closed) return;
        // The receiver's work is done when it decides to answer: a crash on Echo's side after
        // this point is exactly what makes at-least-once deliver twice.
        record.acknowledged = behaviour.status >= 200 && behaviour.status < 300;
        res.writeHead(behaviour.status, { "Content-Type": "text/plain", ...behaviour.headers });
        res.end(String(behaviour.status));
      };
      if (behaviour.delayMs) later(behaviour.delayMs, answer);
      else answer();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    requests,
    /** The receiver goes down: its port refuses connections, and open ones are cut. */
    stopListening(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
    /** Back up, on the same port. */
    startListening(): Promise<void> {
      return new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    close(): Promise<void> {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}

export type FaultReceiver = Awaited<ReturnType<typeof startFaultReceiver>>;
