import { z } from "zod";

/**
 * Custom headers an endpoint's owner adds to every webhook (say, an API key the receiver
 * expects), and what of the request Echo keeps in the attempt log.
 */

export const MAX_CUSTOM_HEADERS = 20;
export const MAX_HEADER_NAME_LENGTH = 128;
export const MAX_HEADER_VALUE_LENGTH = 4096;

/** Headers Echo sets itself, or that describe the connection or framing; custom headers may not set them. */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "user-agent",
  "host",
  "connection",
  "proxy-connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);
/** Echo's own namespaces: the signature headers (webhook-id, x-webhook-signature, …) and any it adds later. */
export const RESERVED_HEADER_PREFIXES: readonly string[] = ["webhook-", "x-webhook-"];

// RFC 9110 §5.1 field-name: a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5 field-value: visible ASCII, space, tab and obs-text; never CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isReservedHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADER_NAMES.has(lower) || RESERVED_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

export const CustomHeaderNameSchema = z
  .string()
  .min(1, "Header names cannot be empty")
  .max(MAX_HEADER_NAME_LENGTH, `Header names are at most ${MAX_HEADER_NAME_LENGTH} characters`)
  .regex(TOKEN, "Header names may contain only letters, digits and !#$%&'*+-.^_`|~")
  .refine((name) => !isReservedHeaderName(name), "Echo sets this header itself");

export const CustomHeaderValueSchema = z
  .string()
  .max(MAX_HEADER_VALUE_LENGTH, `Header values are at most ${MAX_HEADER_VALUE_LENGTH} characters`)
  .regex(FIELD_VALUE, "Header values cannot contain line breaks or control characters");

/** An endpoint's custom headers: at most 20, each name once whatever its case. */
export const CustomHeadersSchema = z
  // Names are checked below, one issue per name: zod 4 reports a refused record key only as "Invalid key in record".
  .record(z.string(), CustomHeaderValueSchema)
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > MAX_CUSTOM_HEADERS) {
      ctx.addIssue({ code: "custom", message: `At most ${MAX_CUSTOM_HEADERS} custom headers` });
    }
    for (const name of names) {
      const checked = CustomHeaderNameSchema.safeParse(name);
      if (!checked.success) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `${name}: ${checked.error.issues[0]?.message ?? "invalid name"}`,
        });
      }
    }
    const seen = new Set<string>();
    for (const name of names) {
      const lower = name.toLowerCase();
      if (seen.has(lower)) {
        ctx.addIssue({ code: "custom", path: [name], message: "This header is already set (names ignore case)" });
      }
      seen.add(lower);
    }
  });
export type CustomHeaders = z.infer<typeof CustomHeadersSchema>;

export const REDACTED = "[redacted]";

/** Signatures, credentials and session material, by exact name (lower-case). */
export const SENSITIVE_HEADER_NAMES: ReadonlySet<string> = new Set([
  "x-webhook-secret",
  "x-webhook-signature",
  "webhook-signature",
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
]);
// Custom headers often carry credentials under names of the owner's choosing (X-Api-Key, X-Auth-Token).
const SENSITIVE_NAME_PART = /auth|token|secret|signature|passw|api[-_]?key|session|cookie|credential|private/i;

export function isSensitiveHeaderName(name: string): boolean {
  return SENSITIVE_HEADER_NAMES.has(name.toLowerCase()) || SENSITIVE_NAME_PART.test(name);
}

/**
 * Headers as sent (or received), minus anything that would let a reader of the attempt log
 * forge, replay or authenticate: signature and credential values become "[redacted]". Names
 * are kept as given, so the log shows which headers went out.
 */
export function redactHeaders(headers: Record<string, string>): Record<string, string>;
export function redactHeaders(
  headers: Headers | Record<string, string | readonly string[] | undefined>,
): Record<string, string | string[]>;
export function redactHeaders(
  headers: Headers | Record<string, string | readonly string[] | undefined>,
): Record<string, string | string[]> {
  const redacted: Record<string, string | string[]> = {};
  const pairs: Iterable<[string, string | readonly string[] | undefined]> =
    typeof (headers as Headers).entries === "function" && typeof (headers as Headers).get === "function"
      ? (headers as Headers).entries()
      : Object.entries(headers as Record<string, string | readonly string[] | undefined>);
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    redacted[name] = isSensitiveHeaderName(name) ? REDACTED : typeof value === "string" ? value : [...value];
  }
  return redacted;
}
