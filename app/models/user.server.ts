import type { Database } from "~/db.server";
import { hasOperatorRole } from "~/services/auth/operator-role.server";

const userSelect = { id: true, email: true, name: true, createdAt: true, isOperator: true } as const;
/** `isOperator` is the role as it applies now: the stored flag or an ECHO_ADMIN_EMAILS entry. */
export type PublicUser = { id: string; email: string; name: string; createdAt: Date; isOperator: boolean };

function withRole(user: { id: string; email: string; name: string; createdAt: Date; isOperator: boolean }): PublicUser {
  return { ...user, isOperator: hasOperatorRole(user) };
}

export async function findUserById(db: Database, id: string): Promise<PublicUser | null> {
  const user = await db.user.findUnique({ where: { id }, select: userSelect });
  return user ? withRole(user) : null;
}

export function findUserForLogin(db: Database, email: string) {
  return db.user.findUnique({ where: { email }, select: { id: true, passwordHash: true } });
}

// Serialises sign-ups just long enough that two at once on an empty database cannot both be first.
const FIRST_USER_LOCK = 7_311_001;

/** A new account; the first one on an empty database is an operator. */
export async function createUser(
  db: Database,
  data: { email: string; name: string; passwordHash: string },
): Promise<PublicUser> {
  const user = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FIRST_USER_LOCK}::bigint)`;
    const isFirst = (await tx.user.findFirst({ select: { id: true } })) === null;
    return tx.user.create({ data: { ...data, isOperator: isFirst }, select: userSelect });
  });
  return withRole(user);
}
