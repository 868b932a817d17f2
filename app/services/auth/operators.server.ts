import { redirect } from "@remix-run/node";
import { prisma, type Database } from "~/db.server";
import type { PublicUser } from "~/models/user.server";
import { requireApiUser } from "~/services/api/authenticate.server";
import { problem } from "~/services/api/problem.server";
import { hasOperatorRole } from "./operator-role.server";
import { getSessionUser } from "./session.server";

export { hasOperatorRole };

/**
 * A signed-in operator. Anyone else gets a 404, as if the page did not exist: the runs
 * console is not a feature to advertise to users who cannot open it.
 */
export async function requireOperator(request: Request, db: Database = prisma): Promise<PublicUser> {
  const user = await getSessionUser(request, db);
  if (!user) {
    const url = new URL(request.url);
    throw redirect(`/login?${new URLSearchParams({ redirectTo: `${url.pathname}${url.search}` })}`);
  }
  if (!user.isOperator) throw new Response("Not found", { status: 404 });
  return user;
}

/** The JSON API's operator: an operator's personal API key (401 without a key, 404 for anyone else's). */
export async function requireApiOperator(request: Request, db: Database = prisma): Promise<{ userId: string }> {
  const { userId } = await requireApiUser(request, db);
  if (!(await isOperatorUser(db, userId))) throw problem(404, "Not found", "No such resource.");
  return { userId };
}

export async function isOperatorUser(db: Database, userId: string): Promise<boolean> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { email: true, isOperator: true } });
  return user ? hasOperatorRole(user) : false;
}
