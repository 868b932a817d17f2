/**
 * How a client says who it is at the token and revocation endpoints (RFC 6749 §2.3.1): HTTP Basic
 * (`client_secret_basic`) or the form body (`client_secret_post`); a public client names itself
 * with `client_id` alone (`none`). Pure: no I/O, so every encoding rule has a unit test.
 */

export type ClientAuthenticationMethod = "client_secret_basic" | "client_secret_post" | "none";

export type ClientCredentials = {
  method: ClientAuthenticationMethod;
  /** Null when the request names no client at all; the caller refuses it. */
  clientId: string | null;
  clientSecret: string | null;
};

export type ClientCredentialsResult =
  | { ok: true; credentials: ClientCredentials }
  | { ok: false; error: "invalid_client" | "invalid_request"; description: string };

/** RFC 6749 Appendix A.1/A.2: client_id and client_secret are VSCHAR (printable ASCII). */
const VSCHAR = /^[\x20-\x7E]*$/;
/** RFC 7617: `Basic` (any case), then the base64 of `id:secret` as a token68. */
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * RFC 6749 Appendix B: `+` is a space, then %-escapes of UTF-8 bytes. Echo's ids and secrets use
 * only [A-Za-z0-9_-], which decoding leaves as they are, so an unencoded one decodes to itself.
 */
export function formUrlDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return null; // a malformed %-escape, or one that is not UTF-8
  }
}

const invalidBasic = (description: string): ClientCredentialsResult => ({
  ok: false,
  error: "invalid_client",
  description: `Client authentication failed: ${description}`,
});

function readBasic(token: string, form: Record<string, string>): ClientCredentialsResult {
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token, "base64"));
  } catch {
    return invalidBasic("the Basic credentials are not UTF-8.");
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return invalidBasic("the Basic credentials are not client_id:client_secret.");
  // The id cannot hold a raw `:` (RFC 7617), so everything after the first one is the secret.
  const clientId = formUrlDecode(decoded.slice(0, colon));
  const clientSecret = formUrlDecode(decoded.slice(colon + 1));
  if (clientId === null || clientSecret === null)
    return invalidBasic("the Basic credentials are not form-urlencoded (RFC 6749 section 2.3.1).");
  if (!clientId || !VSCHAR.test(clientId) || !VSCHAR.test(clientSecret))
    return invalidBasic("the Basic credentials hold an empty client_id or a character a client id or secret cannot.");
  // RFC 6749 §2.3: one authentication method per request.
  if (form.client_secret !== undefined) {
    return {
      ok: false,
      error: "invalid_request",
      description: "The client authenticated twice: use the Authorization header or client_secret, not both.",
    };
  }
  if (form.client_id !== undefined && form.client_id !== clientId) {
    return {
      ok: false,
      error: "invalid_request",
      description: "The client_id in the body is not the one in the Authorization header.",
    };
  }
  return {
    ok: true,
    credentials: { method: "client_secret_basic", clientId, clientSecret: clientSecret === "" ? null : clientSecret },
  };
}

/**
 * The client's credentials from the Authorization header or the form (whose empty values the
 * caller has already dropped, RFC 6749 §3.2). An Authorization header with another scheme is not
 * client authentication and is ignored. A Basic header that cannot be read is `invalid_client`,
 * never a server error.
 */
export function readClientCredentials(
  authorization: string | null,
  form: Record<string, string>,
): ClientCredentialsResult {
  const header = authorization?.trim() ?? "";
  if (/^basic(\s|$)/i.test(header)) {
    const token = BASIC.exec(header)?.[1];
    if (!token) return invalidBasic("the Authorization header is not Basic base64(client_id:client_secret).");
    return readBasic(token, form);
  }
  const clientId = form.client_id ?? null;
  const clientSecret = form.client_secret ?? null;
  return {
    ok: true,
    credentials: { method: clientSecret === null ? "none" : "client_secret_post", clientId, clientSecret },
  };
}
