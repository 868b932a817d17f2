/**
 * A tiny cookie jar and the real login form, for tests that drive Echo over HTTP the way
 * a browser would (CSRF token from the page, session cookie from the answer).
 */
export class CookieJar {
  private cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(";");
      const [name, ...value] = pair!.split("=");
      if (/max-age=0/i.test(header)) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join("="));
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

export function csrfTokenIn(html: string): string {
  const match = html.match(/name="csrf" value="([^"]+)"/);
  if (!match) throw new Error("No CSRF token in the page");
  return match[1]!;
}

export async function fetchWithJar(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, {
    ...init,
    redirect: "manual",
    headers: { ...(init.headers as Record<string, string>), Cookie: jar.header() },
  });
  jar.store(response);
  return response;
}

/** Logs in through the real /login form; returns a jar holding the session cookie. */
/** Opens the login page for its CSRF token, then submits the form; the answer, whatever it is. */
export async function submitLoginForm(
  jar: CookieJar,
  baseUrl: string,
  fields: { email: string; password: string; redirectTo?: string },
): Promise<Response> {
  const page = await fetchWithJar(jar, `${baseUrl}/login`);
  const csrf = csrfTokenIn(await page.text());
  return fetchWithJar(jar, `${baseUrl}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, csrf }),
  });
}

export async function logInOverHttp(baseUrl: string, email: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const response = await submitLoginForm(jar, baseUrl, { email, password, redirectTo: "/dashboard" });
  if (response.status !== 302 && response.status !== 204) throw new Error(`Login failed with HTTP ${response.status}`);
  return jar;
}
