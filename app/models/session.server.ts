import type { Database } from "~/db.server";

export function createSessionRecord(
  db: Database,
  data: { id: string; userId: string; expiresAt: Date; userAgent: string | null },
) {
  return db.session.create({ data, select: { id: true } });
}

export function findLiveSession(db: Database, id: string) {
  return db.session.findFirst({
    where: { id, expiresAt: { gt: new Date() } },
    select: { id: true, userId: true, expiresAt: true },
  });
}

export async function deleteSessionRecord(db: Database, id: string): Promise<void> {
  await db.session.deleteMany({ where: { id } });
}
