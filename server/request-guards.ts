import type { NextFunction, Request, Response } from "express";

/**
 * Requests refused before Remix sees them, each with a clear 4xx instead of a 500 or an
 * unbounded read: bodies over 1 MB (nothing Echo accepts comes close: event bodies are capped
 * at 256 KB), bodies of unknown length, NUL bytes in the URL (PostgreSQL cannot store or
 * compare them), and page forms that are not urlencoded (every Echo form is; Remix would
 * fail to parse anything else). Oversized headers are refused by Node itself (431, 16 KB).
 */
export const MAX_BODY_BYTES = 1024 * 1024;

const FORM_TYPE = "application/x-www-form-urlencoded";
/** Routes that read JSON, or OAuth client requests that answer in JSON. */
const JSON_ANSWER = /^\/(api\/|oauth\/(token|revoke|userinfo)\b)/;

function refuse(req: Request, res: Response, status: number, title: string, detail: string): void {
  res.status(status).set("Cache-Control", "no-store");
  if (req.path.startsWith("/api/")) {
    res.type("application/problem+json").send(JSON.stringify({ type: "about:blank", status, title, detail }));
  } else if (JSON_ANSWER.test(req.path)) {
    res.json({ error: "invalid_request", error_description: detail });
  } else {
    const escaped = detail.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
    res
      .type("html")
      .send(
        `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title} · Echo</title></head>` +
          `<body><h1>${title}</h1><p role="alert">${escaped}</p><p><a href="/">Echo</a></p></body></html>`,
      );
  }
}

export function requestGuards(req: Request, res: Response, next: NextFunction): void {
  if (/%00/i.test(req.originalUrl)) {
    return refuse(req, res, 400, "Bad request", "The address contains a NUL byte (%00).");
  }
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();

  const length = req.headers["content-length"];
  if (length === undefined && req.headers["transfer-encoding"]) {
    return refuse(req, res, 411, "Length required", "Send the body with a Content-Length header.");
  }
  if (Number(length) > MAX_BODY_BYTES) {
    return refuse(
      req,
      res,
      413,
      "Request too large",
      `The body is ${length} bytes; Echo accepts at most ${MAX_BODY_BYTES} bytes.`,
    );
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (!JSON_ANSWER.test(req.path) && type !== FORM_TYPE) {
    return refuse(
      req,
      res,
      415,
      "Unsupported media type",
      `Forms are sent as ${FORM_TYPE}; this request was ${type || "of no declared type"}.`,
    );
  }
  next();
}
