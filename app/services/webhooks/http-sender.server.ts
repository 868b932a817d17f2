import { Agent, request, type Dispatcher } from "undici";

/** What one HTTP attempt produced, whatever happened. */
export type SendResult =
  | {
      kind: "response";
      status: number;
      headers: Record<string, string>;
      /** At most RESPONSE_BODY_LIMIT bytes, decoded as UTF-8. */
      body: string;
      durationMs: number;
    }
  | { kind: "timeout" | "connection_error" | "refused_address"; error: string; durationMs: number };

export const RESPONSE_BODY_LIMIT = 4096;
// Read past the kept 4 KB so the connection can be reused; give up on anything bigger.
const DRAIN_LIMIT = 64 * 1024;

export type LookupFunction =
  NonNullable<Agent.Options["connect"]> extends infer C ? (C extends { lookup?: infer L } ? L : never) : never;

/** One keep-alive pool per origin, shared by every delivery in this process. */
export function createWebhookAgent({ lookup }: { lookup?: LookupFunction } = {}): Dispatcher {
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
    connect: { timeout: 10_000, ...(lookup ? { lookup } : {}) },
  });
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function causeOf(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if ((current as { code?: string }).code === "ECHO_FORBIDDEN_ADDRESS") return current;
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}

export async function sendWebhook(
  dispatcher: Dispatcher,
  { url, headers, body, timeoutMs }: { url: string; headers: Record<string, string>; body: string; timeoutMs: number },
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(url, {
      method: "POST",
      headers,
      body,
      dispatcher,
      signal: deadline,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let read = 0;
    let bodyNote = "";
    // The status line decides the outcome; a body that stalls or breaks afterwards is noted, not fatal.
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        read += buffer.length;
        if (kept < RESPONSE_BODY_LIMIT) {
          const slice = buffer.subarray(0, RESPONSE_BODY_LIMIT - kept);
          chunks.push(slice);
          kept += slice.length;
        }
        if (read >= DRAIN_LIMIT) {
          response.body.destroy();
          break;
        }
      }
    } catch (bodyError) {
      bodyNote = `\n[response body incomplete: ${bodyError instanceof Error ? bodyError.message : String(bodyError)}]`;
    }
    return {
      kind: "response",
      status: response.statusCode,
      headers: flattenHeaders(response.headers),
      body: Buffer.concat(chunks).toString("utf8") + bodyNote,
      durationMs: elapsed(),
    };
  } catch (error) {
    const cause = causeOf(error);
    if (cause instanceof Error && (cause as { code?: string }).code === "ECHO_FORBIDDEN_ADDRESS") {
      return { kind: "refused_address", error: cause.message, durationMs: elapsed() };
    }
    const name = (error as { name?: string; code?: string }).name;
    const code = (error as { code?: string }).code;
    const timedOut =
      deadline.aborted ||
      name === "TimeoutError" ||
      code === "UND_ERR_HEADERS_TIMEOUT" ||
      code === "UND_ERR_BODY_TIMEOUT" ||
      code === "UND_ERR_CONNECT_TIMEOUT";
    const message = error instanceof Error ? `${code ?? error.name}: ${error.message}` : String(error);
    return timedOut
      ? { kind: "timeout", error: `Timed out after ${timeoutMs} ms (${message})`, durationMs: elapsed() }
      : { kind: "connection_error", error: message, durationMs: elapsed() };
  }
}
