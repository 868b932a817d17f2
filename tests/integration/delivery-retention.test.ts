import { describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import type { WebhookDeliveryStatus } from "~/generated/prisma/client";
import { deleteExpiredDeliveryHistory } from "~/services/webhooks/delivery-retention.server";
import { createOAuthApp, createUser } from "../support/fixtures/webhooks";

const DAY_MS = 24 * 60 * 60_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

describe("deleteExpiredDeliveryHistory", () => {
  it("deletes finished deliveries past the retention with their attempts, then their events, in batches; never an open delivery", async () => {
    const user = await createUser(prisma);
    const apps = await Promise.all(
      Array.from({ length: 3 }, () =>
        createOAuthApp(prisma, { ownerId: user.id, grantUserId: user.id, webhookUrl: "https://example.com/hook" }),
      ),
    );

    /** One event with one delivery per given state, each delivery with one attempt. */
    async function eventWith(
      createdDaysAgo: number,
      deliveries: { status: WebhookDeliveryStatus; completedDaysAgo: number | null }[],
      dispatched = true,
    ) {
      const event = await prisma.webhookEvent.create({
        data: {
          type: "integration.connected",
          userId: user.id,
          source: "retention-test",
          payload: {},
          createdAt: daysAgo(createdDaysAgo),
          dispatchedAt: dispatched ? daysAgo(createdDaysAgo) : null,
        },
      });
      const ids: string[] = [];
      for (const [index, { status, completedDaysAgo }] of deliveries.entries()) {
        const delivery = await prisma.webhookDelivery.create({
          data: {
            eventId: event.id,
            oauthClientId: apps[index]!.id,
            eventType: event.type,
            url: "https://example.com/hook",
            body: "{}",
            maxAttempts: 3,
            status,
            createdAt: daysAgo(createdDaysAgo),
            completedAt: completedDaysAgo === null ? null : daysAgo(completedDaysAgo),
            nextAttemptAt: completedDaysAgo === null ? daysAgo(createdDaysAgo) : null,
          },
        });
        await prisma.deliveryAttempt.create({
          data: {
            deliveryId: delivery.id,
            attemptNumber: 1,
            startedAt: daysAgo(createdDaysAgo),
            durationMs: 5,
            requestUrl: "https://example.com/hook",
            requestHeaders: {},
            responseStatus: status === "SUCCESS" ? 200 : 500,
          },
        });
        ids.push(delivery.id);
      }
      return { eventId: event.id, deliveryIds: ids };
    }

    const expired = await Promise.all(
      Array.from({ length: 5 }, () =>
        eventWith(40, [
          { status: "SUCCESS", completedDaysAgo: 40 },
          { status: "FAILED", completedDaysAgo: 35 },
        ]),
      ),
    );
    // Old event, one delivery finished long ago, one that finished yesterday: only the old one goes; the event stays.
    const mixed = await eventWith(40, [
      { status: "SUCCESS", completedDaysAgo: 40 },
      { status: "FAILED", completedDaysAgo: 1 },
    ]);
    // Old event whose delivery is still open (a held or long-retrying one): nothing of it goes.
    const open = await eventWith(60, [
      { status: "RETRYING", completedDaysAgo: null },
      { status: "PENDING", completedDaysAgo: null },
    ]);
    const recent = await eventWith(2, [{ status: "SUCCESS", completedDaysAgo: 2 }]);
    const oldWithoutSubscribers = await eventWith(50, []);
    const undispatched = await eventWith(50, [], false);

    const deleted = await deleteExpiredDeliveryHistory({ retentionDays: 30, batchSize: 3 });
    expect(deleted).toEqual({ deliveries: 11, events: 6 });

    const eventsLeft = await prisma.webhookEvent.findMany({
      where: { source: "retention-test", userId: user.id },
      select: { id: true },
    });
    expect(eventsLeft.map((event) => event.id).sort()).toEqual(
      [mixed.eventId, open.eventId, recent.eventId, undispatched.eventId].sort(),
    );
    const deliveriesLeft = await prisma.webhookDelivery.findMany({
      where: { event: { userId: user.id, source: "retention-test" } },
      select: { id: true },
    });
    expect(deliveriesLeft.map((delivery) => delivery.id).sort()).toEqual(
      [mixed.deliveryIds[1], ...open.deliveryIds, ...recent.deliveryIds].sort(),
    );
    const expiredIds = [...expired.flatMap((event) => event.deliveryIds), mixed.deliveryIds[0]!];
    expect(await prisma.deliveryAttempt.count({ where: { deliveryId: { in: expiredIds } } })).toBe(0);
    expect(await prisma.deliveryAttempt.count({ where: { deliveryId: { in: open.deliveryIds } } })).toBe(2);
    expect(oldWithoutSubscribers.deliveryIds).toEqual([]);

    expect(await deleteExpiredDeliveryHistory({ retentionDays: 30 })).toEqual({ deliveries: 0, events: 0 });
  });
});
