import { createCookie } from "@remix-run/node";
import { isHttps, requireSetting } from "~/env.server";

/**
 * "Show this endpoint's new secret once": set by the create action, read and cleared by the
 * endpoint's page, which then reveals the secret from the database. The cookie carries the
 * endpoint's id only, never the secret, and lives a minute.
 */
const secretFlashCookie = createCookie("__echo_new_secret", {
  httpOnly: true,
  sameSite: "lax",
  secure: isHttps,
  path: "/webhooks/endpoints",
  maxAge: 60,
  secrets: [requireSetting("SESSION_SECRET")],
});

export function newSecretFlash(endpointId: string): Promise<string> {
  return secretFlashCookie.serialize(endpointId);
}

/** Whether the page of `endpointId` should show its secret once, and the header that forgets it. */
export async function takeSecretFlash(
  request: Request,
  endpointId: string,
): Promise<{ show: boolean; setCookie?: string }> {
  const value: unknown = await secretFlashCookie.parse(request.headers.get("Cookie"));
  if (value !== endpointId) return { show: false };
  return { show: true, setCookie: await secretFlashCookie.serialize("", { maxAge: 0 }) };
}
