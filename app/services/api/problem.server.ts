import type { z } from "zod";

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
  try {
    return { ok: true, body: await request.json() };
  } catch {
    return { ok: false, response: problem(400, "Invalid JSON", "The request body is not valid JSON.") };
  }
}
