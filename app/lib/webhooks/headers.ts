import { z } from "zod";

/** Headers Echo sets itself; an endpoint's custom headers may not override them. */
const RESERVED = new Set([
  "content-type",
  "content-length",
  "user-agent",
  "host",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);
const RESERVED_PREFIXES = ["webhook-", "x-webhook-"];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab, plus obs-text; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const CustomHeaderNameSchema = z
  .string()
  .min(1, "Header names cannot be empty")
  .max(128, "Header names are at most 128 characters")
  .regex(TOKEN, "Header names may contain only letters, digits and !#$%&'*+-.^_`|~")
  .refine(
    (name) =>
      !RESERVED.has(name.toLowerCase()) && !RESERVED_PREFIXES.some((prefix) => name.toLowerCase().startsWith(prefix)),
    "Echo sets this header itself",
  );

export const CustomHeaderValueSchema = z
  .string()
  .max(4096, "Header values are at most 4096 characters")
  .regex(FIELD_VALUE, "Header values cannot contain line breaks or control characters");

export const CustomHeadersSchema = z
  .record(CustomHeaderNameSchema, CustomHeaderValueSchema)
  .refine((headers) => Object.keys(headers).length <= 20, "At most 20 custom headers");

const SECRET_HEADERS = new Set([
  "x-webhook-secret",
  "x-webhook-signature",
  "webhook-signature",
  "authorization",
  "proxy-authorization",
  "cookie",
]);

/** The attempt log stores headers as sent, minus anything that would let a reader forge or replay. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const redacted: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    redacted[name] = SECRET_HEADERS.has(name.toLowerCase()) ? "[redacted]" : value;
  }
  return redacted;
}
