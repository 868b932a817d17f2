// A webhook receiver in its own process, so the benchmark measures Echo and not a
// receiver sharing its event loop. Reports over IPC: count and per-delivery receipt times.
import http from "node:http";
import type { AddressInfo } from "node:net";

const received = new Map<string, number>();
let duplicates = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const id = String(req.headers["webhook-id"] ?? req.headers["x-benchmark-id"] ?? "");
    if (received.has(id)) duplicates++;
    else received.set(id, Date.now());
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "2" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.send?.({ type: "ready", port: (server.address() as AddressInfo).port });
});
process.on("message", (message: { type: string }) => {
  if (message.type === "stats")
    process.send?.({ type: "stats", count: received.size, duplicates, receipts: [...received.entries()] });
  if (message.type === "reset") {
    received.clear();
    duplicates = 0;
    process.send?.({ type: "reset-done" });
  }
  if (message.type === "stop") server.close(() => process.exit(0));
});
