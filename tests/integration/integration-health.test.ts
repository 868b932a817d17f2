import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostmarkStandIn } from "../support/stand-ins/postmark";

// The provider is a local stand-in speaking Postmark's API; its accepted tokens change mid-test.
const tokens: Record<string, { ID: number; Name: string }> = {};
let postmark: Awaited<ReturnType<typeof startPostmarkStandIn>>;

beforeAll(async () => {
  postmark = await startPostmarkStandIn({ tokens });
  // Provider locations are settings, read when Echo's modules are first imported.
  process.env.POSTMARK_API_URL = postmark.url;
});

afterAll(() => postmark.close());

async function services() {
  const { prisma } = await import("~/db.server");
  const { seedDemoData } = await import("~/services/seed/seed.server");
  await seedDemoData(prisma);
  return {
    prisma,
    ...(await import("~/services/integrations/run-integration.server")),
    ...(await import("~/services/integrations/check-integration-health.server")),
  };
}

describe("integration health checks", () => {
  it("warns once when the provider refuses the stored key, and clears when it accepts it again", async () => {
    const { prisma, connectIntegration, checkIntegrationHealth } = await services();
    tokens["pm-health-token"] = { ID: 777, Name: "Health Server" };
    const user = await prisma.user.create({
      data: { email: `health-${Date.now()}@example.com`, name: "H", passwordHash: "x" },
    });
    const connected = await connectIntegration({
      userId: user.id,
      slug: "postmark",
      input: { kind: "api_key", apiKey: "pm-health-token" },
    });
    if (!connected.ok) throw new Error(connected.error);
    const id = connected.integrationAccountId;
    const events = () =>
      prisma.webhookEvent.findMany({
        where: { source: `integration:${id}`, type: { startsWith: "integration.health" } },
        orderBy: { createdAt: "asc" },
        select: { type: true, payload: true },
      });

    expect(await checkIntegrationHealth(id)).toEqual({ state: "healthy", changed: false });
    expect(await events()).toEqual([]);

    delete tokens["pm-health-token"];
    expect(await checkIntegrationHealth(id)).toMatchObject({ state: "unhealthy", changed: true });
    expect(await checkIntegrationHealth(id)).toMatchObject({ state: "unhealthy", changed: false });
    expect(await prisma.integrationAccount.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "ERROR" });
    const [warning] = await events();
    expect(warning).toMatchObject({
      type: "integration.health_warning",
      payload: {
        integration: { id, provider: "postmark", account_id: "777" },
        reason: expect.stringContaining("Postmark"),
      },
    });

    tokens["pm-health-token"] = { ID: 777, Name: "Health Server" };
    expect(await checkIntegrationHealth(id)).toEqual({ state: "healthy", changed: true });
    expect((await events()).map((event) => event.type)).toEqual([
      "integration.health_warning",
      "integration.health_cleared",
    ]);
    expect(await prisma.integrationAccount.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "ACTIVE" });
  });

  it("concludes nothing while the provider cannot be reached", async () => {
    const { prisma, connectIntegration, checkIntegrationHealth } = await services();
    tokens["pm-outage-token"] = { ID: 778, Name: "Outage Server" };
    const user = await prisma.user.create({
      data: { email: `outage-${Date.now()}@example.com`, name: "O", passwordHash: "x" },
    });
    const connected = await connectIntegration({
      userId: user.id,
      slug: "postmark",
      input: { kind: "api_key", apiKey: "pm-outage-token" },
    });
    if (!connected.ok) throw new Error(connected.error);
    await postmark.close();
    try {
      expect(await checkIntegrationHealth(connected.integrationAccountId)).toMatchObject({ state: "unknown" });
      expect(
        await prisma.integrationAccount.findUniqueOrThrow({ where: { id: connected.integrationAccountId } }),
      ).toMatchObject({ status: "ACTIVE" });
    } finally {
      postmark = await startPostmarkStandIn({ port: postmark.port, tokens });
    }
  });

  it("queues one check per connected account per interval, however often scheduling runs", async () => {
    const { prisma, scheduleIntegrationHealthChecks } = await services();
    const live = await prisma.integrationAccount.count({ where: { deletedAt: null, credentials: { not: null } } });
    expect(live).toBeGreaterThan(0);
    const interval = 3_600_000;
    await scheduleIntegrationHealthChecks(interval);
    await scheduleIntegrationHealthChecks(interval);
    const slot = Math.floor(Date.now() / interval);
    const runs = await prisma.taskRun.findMany({
      where: { taskId: "integration-health-check", idempotencyKey: { endsWith: `:${slot}` } },
    });
    expect(runs).toHaveLength(live);
  });
});
