import type { Database } from "~/db.server";

const publicUserSelect = { id: true, email: true, name: true, createdAt: true } as const;
export type PublicUser = { id: string; email: string; name: string; createdAt: Date };

export function findUserById(db: Database, id: string): Promise<PublicUser | null> {
  return db.user.findUnique({ where: { id }, select: publicUserSelect });
}

export function findUserForLogin(db: Database, email: string) {
  return db.user.findUnique({ where: { email }, select: { id: true, passwordHash: true } });
}

export function createUser(db: Database, data: { email: string; name: string; passwordHash: string }) {
  return db.user.create({ data, select: publicUserSelect });
}
