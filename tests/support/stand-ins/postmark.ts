import { listen, sendJson } from "./http";

/**
 * Postmark's `GET /server`, as documented: the server a server API token belongs to, or
 * 401 with Postmark's error shape for a token it does not know.
 */
export function startPostmarkStandIn({
  port = 0,
  tokens = { "pm-valid-token": { ID: 4242, Name: "Acme Transactional" } },
}: { port?: number; tokens?: Record<string, { ID: number; Name: string }> } = {}) {
  return listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    if (req.method !== "GET" || url.pathname !== "/server")
      return sendJson(res, 404, { ErrorCode: 404, Message: "Not found" });
    const token = req.headers["x-postmark-server-token"];
    const server = typeof token === "string" ? tokens[token] : undefined;
    if (!server) return sendJson(res, 401, { ErrorCode: 10, Message: "Bad or missing Server API token." });
    sendJson(res, 200, { ...server, ApiTokens: [token], Color: "blue", SmtpApiActivated: true });
  }, port);
}
