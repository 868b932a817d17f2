import { randomBytes } from "node:crypto";
import { createCookie, redirect } from "@remix-run/node";
import { prisma, type Database } from "~/db.server";
import { isHttps, requireSetting } from "~/env.server";
import { createSessionRecord, deleteSessionRecord, findLiveSession } from "~/models/session.server";
import { findUserById, type PublicUser } from "~/models/user.server";

const SESSION_TTL_SECONDS = 30 * 24 * 60 * 60;

// The cookie holds only a signed, random session id; the session itself lives in the
// database so logout and rotation on login really end it.
const sessionCookie = createCookie("__echo_session", {
  httpOnly: true,
  sameSite: "lax",
  secure: isHttps,
  path: "/",
  maxAge: SESSION_TTL_SECONDS,
  secrets: [requireSetting("SESSION_SECRET")],
});

async function readSessionId(request: Request): Promise<string | undefined> {
  const value: unknown = await sessionCookie.parse(request.headers.get("Cookie"));
  return typeof value === "string" ? value : undefined;
}

export async function getSessionUser(request: Request, db: Database = prisma): Promise<PublicUser | null> {
  const sessionId = await readSessionId(request);
  if (!sessionId) return null;
  const session = await findLiveSession(db, sessionId);
  if (!session) return null;
  return findUserById(db, session.userId);
}

function safeRedirectTo(value: string | null | undefined, fallback = "/dashboard"): string {
  // Only same-site paths: "//evil.com" and "/\evil.com" are absolute URLs to a browser.
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  return value;
}

export async function requireUser(request: Request, db: Database = prisma): Promise<PublicUser> {
  const user = await getSessionUser(request, db);
  if (!user) {
    const url = new URL(request.url);
    const redirectTo = `${url.pathname}${url.search}`;
    throw redirect(`/login?${new URLSearchParams({ redirectTo })}`);
  }
  return user;
}

/**
 * Starts a fresh session (a new id every login, so a planted cookie is worthless) and
 * ends the one the browser had before.
 */
export async function startUserSession(
  request: Request,
  userId: string,
  redirectTo: string | null | undefined,
  db: Database = prisma,
): Promise<Response> {
  const previous = await readSessionId(request);
  if (previous) await deleteSessionRecord(db, previous);
  const id = randomBytes(32).toString("base64url");
  await createSessionRecord(db, {
    id,
    userId,
    expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000),
    userAgent: request.headers.get("User-Agent")?.slice(0, 512) ?? null,
  });
  return redirect(safeRedirectTo(redirectTo), { headers: { "Set-Cookie": await sessionCookie.serialize(id) } });
}

export async function endUserSession(request: Request, db: Database = prisma): Promise<Response> {
  const sessionId = await readSessionId(request);
  if (sessionId) await deleteSessionRecord(db, sessionId);
  return redirect("/login", { headers: { "Set-Cookie": await sessionCookie.serialize("", { maxAge: 0 }) } });
}

export { safeRedirectTo };
