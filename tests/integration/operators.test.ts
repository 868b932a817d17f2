import { beforeAll, describe, expect, it } from "vitest";

// Read once at start-up, like every setting: set before Echo's modules load.
process.env.ECHO_ADMIN_EMAILS = "Ops@Example.com, second-ops@example.com";

const { prisma } = await import("~/db.server");
const { signUp } = await import("~/services/auth/accounts.server");
const { isOperatorUser, requireOperator } = await import("~/services/auth/operators.server");
const { findUserById } = await import("~/models/user.server");
const { seedDemoData, DEMO_USER } = await import("~/services/seed/seed.server");
const { startUserSession } = await import("~/services/auth/session.server");
const { createDatabaseClient } = await import("~/db.server");
const { createTestDatabase } = await import("../support/database");

/** A request carrying a real session cookie of this user. */
async function signedInRequest(userId: string, url: string): Promise<Request> {
  const started = await startUserSession(new Request(url), userId, "/");
  const cookie = started.headers.get("Set-Cookie")!.split(";")[0]!;
  return new Request(url, { headers: { Cookie: cookie } });
}

const password = "correct horse battery";

async function signUpAs(email: string) {
  const result = await signUp(prisma, { name: "Op", email, password });
  if (!result.ok) throw new Error(`sign-up of ${email} failed`);
  return result.userId;
}

describe("the operator role", () => {
  let firstUserId: string;
  let concurrentIds: string[];

  beforeAll(async () => {
    // The file's database starts empty: of several sign-ups at once, exactly one can be first.
    concurrentIds = await Promise.all(Array.from({ length: 6 }, (_, index) => signUpAs(`racer-${index}@example.com`)));
    const flagged = await prisma.user.findMany({ where: { isOperator: true }, select: { id: true } });
    expect(flagged).toHaveLength(1);
    firstUserId = flagged[0]!.id;
  });

  it("makes the first user of an empty database an operator, and nobody who signs up after", async () => {
    expect(concurrentIds).toContain(firstUserId);
    expect(await isOperatorUser(prisma, firstUserId)).toBe(true);
    const later = await signUpAs("later@example.com");
    expect(await isOperatorUser(prisma, later)).toBe(false);
    expect((await findUserById(prisma, later))?.isOperator).toBe(false);
  });

  it("makes every ECHO_ADMIN_EMAILS address an operator, whatever its case", async () => {
    const ops = await signUpAs("ops@example.com");
    expect(await isOperatorUser(prisma, ops)).toBe(true);
    expect((await findUserById(prisma, ops))?.isOperator).toBe(true);
    // The stored flag stays false: removing the address from the setting removes the role.
    expect((await prisma.user.findUniqueOrThrow({ where: { id: ops } })).isOperator).toBe(false);
  });

  it("does not make the demo user an operator on a database that already had users", async () => {
    await seedDemoData(prisma);
    const demo = await prisma.user.findUniqueOrThrow({ where: { email: DEMO_USER.email } });
    expect(await isOperatorUser(prisma, demo.id)).toBe(false);
  });

  it("makes the demo user an operator when it is the first user of an empty database", async () => {
    const fresh = await createTestDatabase();
    const db = createDatabaseClient(fresh.url, { max: 2 });
    try {
      await seedDemoData(db);
      const demo = await db.user.findUniqueOrThrow({ where: { email: DEMO_USER.email } });
      expect(demo.isOperator).toBe(true);
      // The demo data has activity for the runs console: the demo user's grant to the demo app, and its event.
      expect(await db.oAuthIntegrationGrant.count({ where: { userId: demo.id, isActive: true } })).toBe(1);
      expect(
        await db.webhookEvent.findMany({ where: { userId: demo.id }, select: { type: true, dispatchedAt: true } }),
      ).toEqual([{ type: "oauth.grant.created", dispatchedAt: null }]);
      // Seeding again adds nothing.
      await seedDemoData(db);
      expect(await db.webhookEvent.count({ where: { userId: demo.id } })).toBe(1);
    } finally {
      await db.$disconnect();
      await fresh.drop();
    }
  });

  it("lets an operator in, sends a signed-out request to log in, and answers anyone else 404", async () => {
    const url = "http://localhost/runs?task=x";
    await expect(requireOperator(await signedInRequest(firstUserId, url))).resolves.toMatchObject({
      id: firstUserId,
      isOperator: true,
    });
    const anonymous = await requireOperator(new Request(url)).catch((error: unknown) => error);
    expect(anonymous).toBeInstanceOf(Response);
    expect((anonymous as Response).status).toBe(302);
    expect((anonymous as Response).headers.get("Location")).toBe(
      `/login?${new URLSearchParams({ redirectTo: "/runs?task=x" })}`,
    );
    const someone = await signUpAs("someone@example.com");
    const refused = await requireOperator(await signedInRequest(someone, url)).catch((error: unknown) => error);
    expect((refused as Response).status).toBe(404);
  });
});
