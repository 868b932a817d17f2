import { expect } from "vitest";
import { csrfTokenIn, fetchWithJar, type CookieJar } from "./http-session";

/**
 * The user opens an authorization URL and answers Echo's consent screen, as the browser would;
 * the redirect back to the app (its callback URL, with a code or an error).
 */
export async function answerConsent(jar: CookieJar, url: URL, decision: "approve" | "deny" = "approve") {
  const page = await fetchWithJar(jar, url.href);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("wants to access your Echo account");
  const answer = await fetchWithJar(jar, url.href, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: csrfTokenIn(html), decision }),
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get("location")!);
}
