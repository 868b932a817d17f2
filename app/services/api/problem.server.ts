import type { z } from "zod";
import { ServiceError } from "~/services/service-error.server";

/** RFC 9457 problem details: every JSON API error, with a message a developer can act on. */
export function problem(status: number, title: string, detail?: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ type: "about:blank", status, title, ...(detail ? { detail } : {}), ...extra }), {
    status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store" },
  });
}

export function validationProblem(error: z.ZodError): Response {
  return problem(400, "Invalid request", "Some fields are missing or invalid.", {
    errors: error.issues.map((issue) => ({ field: issue.path.join(".") || null, message: issue.message })),
  });
}

/** Parses a JSON body; a body that is not JSON is the client's error, not a 500. */
export async function readJson(
  request: Request,
): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const type = request.headers.get("Content-Type") ?? "";
  if (!type.includes("application/json")) {
    return {
      ok: false,
      response: problem(415, "Unsupported media type", "Send a JSON body with Content-Type: application/json."),
    };
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return { ok: false, response: problem(400, "Invalid JSON", "The request body is not valid JSON.") };
  }
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail at the database.
  if (containsNul(body)) {
    return { ok: false, response: problem(400, "Invalid JSON", "Strings in the body cannot contain NUL (\\u0000).") };
  }
  return { ok: true, body };
}

/** Walks the parsed body without recursion: a body nested 20,000 deep is the client's problem, not a stack overflow. */
function containsNul(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      if (value.includes("\u0000")) return true;
    } else if (Array.isArray(value)) {
      pending.push(...value);
    } else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes("\u0000")) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/** 405 with the methods the route does answer, in `Allow`. */
export function methodNotAllowed(allowed: readonly string[]): Response {
  const response = problem(405, "Method not allowed", `Use ${allowed.join(" or ")}.`);
  response.headers.set("Allow", allowed.join(", "));
  return response;
}

/** An expected service failure as problem+json: its status, its message, and the field when it names one. */
export function serviceProblem(error: ServiceError): Response {
  const titles: Record<ServiceError["status"], string> = {
    400: "Invalid request",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
  };
  return problem(
    error.status,
    titles[error.status],
    error.message,
    error.issues
      ? { errors: error.issues }
      : error.field
        ? { errors: [{ field: error.field, message: error.message }] }
        : {},
  );
}

/** Runs a service call; a ServiceError becomes its problem response, anything else propagates (a 500, logged). */
export async function answerServiceErrors(call: () => Promise<Response>): Promise<Response> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ServiceError) return serviceProblem(error);
    throw error;
  }
}

/** A JSON body that may be left out entirely (an empty body reads as `{}`); one that is sent must be JSON. */
export async function readOptionalJson(
  request: Request,
): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const text = await request.text();
  if (text.trim() === "") return { ok: true, body: {} };
  const type = request.headers.get("Content-Type") ?? "";
  if (!type.includes("application/json")) {
    return {
      ok: false,
      response: problem(415, "Unsupported media type", "Send a JSON body with Content-Type: application/json."),
    };
  }
  try {
    return { ok: true, body: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, response: problem(400, "Invalid JSON", "The request body is not valid JSON.") };
  }
}
