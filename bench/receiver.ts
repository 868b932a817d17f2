// A webhook receiver in its own process, so the benchmark measures Echo and not a
// receiver sharing its event loop. It listens on several loopback ports (different apps
// are different origins, as in real life); a path starting /hang never gets an answer, the
// way a stuck receiver behaves. Reports over IPC: count and per-delivery receipt times.
import http from "node:http";
import type { AddressInfo } from "node:net";

const PORTS = Math.max(1, Number(process.env.BENCH_RECEIVER_PORTS ?? 10));

let received = new Map<string, number>();
let duplicates = 0;
let hung = 0;
const hanging = new Set<http.ServerResponse>();

function onRequest(req: http.IncomingMessage, res: http.ServerResponse) {
  req.resume();
  req.on("end", () => {
    if (req.url?.startsWith("/hang")) {
      // Never answer: Echo's timeout must end it.
      hung++;
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    const id = String(req.headers["webhook-id"] ?? req.headers["x-benchmark-id"] ?? "");
    if (received.has(id)) duplicates++;
    else received.set(id, Date.now());
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "2" });
    res.end("ok");
  });
}

const servers = Array.from({ length: PORTS }, () => {
  const server = http.createServer(onRequest);
  server.keepAliveTimeout = 60_000;
  return server;
});

void Promise.all(
  servers.map(
    (server) =>
      new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
      ),
  ),
).then((ports) => process.send?.({ type: "ready", port: ports[0], ports }));

// The benchmark gone (finished or crashed) means this receiver is done too.
process.on("disconnect", () => process.exit(0));
process.on("message", (message: { type: string; since?: number }) => {
  if (message.type === "count") process.send?.({ type: "count", count: received.size });
  if (message.type === "stats")
    process.send?.({ type: "stats", count: received.size, duplicates, hung, receipts: [...received.entries()] });
  if (message.type === "reset") {
    received = new Map();
    duplicates = 0;
    hung = 0;
    for (const res of hanging) res.destroy();
    process.send?.({ type: "reset-done" });
  }
  if (message.type === "stop") {
    for (const res of hanging) res.destroy();
    for (const server of servers) server.closeAllConnections();
    process.exit(0);
  }
});
