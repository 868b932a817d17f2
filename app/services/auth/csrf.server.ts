import { randomBytes, timingSafeEqual } from "node:crypto";
import { createCookie } from "@remix-run/node";
import { isHttps, requireSetting } from "~/env.server";

/**
 * Double-submit CSRF protection: a random token in a signed, httpOnly cookie must match
 * the `csrf` field of every state-changing form. SameSite=Lax already blocks most
 * cross-site posts; this closes the rest (same-site subdomains, older browsers).
 */
export const CSRF_FIELD = "csrf";

const csrfCookie = createCookie("__echo_csrf", {
  httpOnly: true,
  sameSite: "lax",
  secure: isHttps,
  path: "/",
  secrets: [requireSetting("SESSION_SECRET")],
});

export class CsrfError extends Response {
  constructor() {
    super("Your form expired or came from another site. Reload the page and try again.", { status: 403 });
  }
}

/** The token for forms on this page, and the Set-Cookie header when it is new. */
export async function getCsrfToken(request: Request): Promise<{ token: string; setCookie?: string }> {
  const existing: unknown = await csrfCookie.parse(request.headers.get("Cookie"));
  if (typeof existing === "string" && existing.length >= 32) return { token: existing };
  const token = randomBytes(32).toString("base64url");
  return { token, setCookie: await csrfCookie.serialize(token) };
}

export async function requireValidCsrf(request: Request, formData: FormData): Promise<void> {
  const cookieToken: unknown = await csrfCookie.parse(request.headers.get("Cookie"));
  const formToken = formData.get(CSRF_FIELD);
  if (typeof cookieToken !== "string" || typeof formToken !== "string") throw new CsrfError();
  const a = Buffer.from(cookieToken);
  const b = Buffer.from(formToken);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new CsrfError();
  // Every form passes here first: PostgreSQL text cannot hold NUL, so such a form is refused as malformed.
  for (const [name, value] of formData.entries()) {
    if (name.includes("\u0000") || (typeof value === "string" && value.includes("\u0000"))) {
      throw new Response("A form field contains a NUL character; remove it and try again.", { status: 400 });
    }
  }
}
