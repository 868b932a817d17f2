import { prisma, type Database } from "~/db.server";
import { findUserByApiKey } from "./api-keys.server";
import { problem } from "./problem.server";

/** The JSON API's caller: a personal API key (`Authorization: Bearer echo_sk_…`). Throws a 401 problem otherwise. */
export async function requireApiUser(request: Request, db: Database = prisma): Promise<{ userId: string }> {
  const header = request.headers.get("Authorization");
  const key = header?.startsWith("Bearer ") ? header.slice(7).trim() : null;
  const userId = key ? await findUserByApiKey(db, key) : null;
  if (!userId) {
    const response = problem(
      401,
      "Unauthorized",
      "Send a personal API key as `Authorization: Bearer echo_sk_…`; create one in Settings → API keys.",
    );
    response.headers.set("WWW-Authenticate", 'Bearer realm="echo"');
    throw response;
  }
  return { userId };
}
