import pg from "pg";
import { describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { sqlOn } from "~/services/database/sql.server";
import { CLAIM_LOCK_SQL, CLAIM_SQL, claimValues } from "~/services/webhooks/delivery-queue.server";
import { createOAuthApp, createUser } from "../support/fixtures/webhooks";

/**
 * On the embedded engine the delivery row is its own queue entry (ADR 011). An attempt updates
 * it twice: the claim, then the record. The claim can be a HOT update (no index entries) only
 * while no index covers a column it changes and the row's page has room (docs/PERFORMANCE.md);
 * the record finishes or reschedules the delivery, which moves it in (or out of) the
 * open-delivery queue index, so it cannot be. Re-adding an index on status, say, would quietly
 * double the claim's index writes; this says so.
 */
const COLUMNS_A_CLAIM_CHANGES = ["status", "attemptCount", "lockedUntil", "lockedBy", "updatedAt"];
/** The record changes these too; among them only the queue's own columns may be indexed. */
const COLUMNS_ONLY_THE_RECORD_CHANGES = ["lastStatusCode", "lastError"];

describe("WebhookDelivery claims are HOT updates", () => {
  it("indexes none of the columns a claim changes, in keys or predicates, and only the queue index covers the record's", async () => {
    const { rows } = await sqlOn<{ index: string; definition: string }>(
      prisma,
      `SELECT i.relname AS index, pg_get_indexdef(i.oid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = '"WebhookDelivery"'::regclass`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const mentions = (definition: string, column: string) =>
      definition.includes(`"${column}"`) || new RegExp(`\\b${column}\\b`).test(definition);
    for (const { index, definition } of rows) {
      for (const column of [...COLUMNS_A_CLAIM_CHANGES, ...COLUMNS_ONLY_THE_RECORD_CHANGES])
        expect(mentions(definition, column), `${index} covers ${column}`).toBe(false);
      if (index !== "WebhookDelivery_open_nextAttemptAt_idx") {
        for (const column of ["nextAttemptAt", "completedAt"])
          expect(mentions(definition, column), `${index} covers ${column}`).toBe(false);
      }
    }
  });

  it("claims a due delivery with a HOT update", async () => {
    const user = await createUser(prisma);
    const app = await createOAuthApp(prisma, {
      ownerId: user.id,
      grantUserId: user.id,
      webhookUrl: "https://example.com/hook",
    });
    const event = await prisma.webhookEvent.create({
      data: { type: "integration.connected", userId: user.id, source: "test", payload: {}, dispatchedAt: new Date() },
    });
    const delivery = await prisma.webhookDelivery.create({
      data: {
        eventId: event.id,
        oauthClientId: app.id,
        eventType: event.type,
        url: "https://example.com/hook",
        body: "{}",
        maxAttempts: 3,
      },
    });

    // The claim's own statements, in a transaction whose table statistics can be read before it ends.
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query(CLAIM_LOCK_SQL);
      const claimed = (
        await client.query<{ id: string }>(
          CLAIM_SQL,
          claimValues({ workerId: "hot-test", wanted: 10, perTarget: 10, inFlightByTarget: new Map() }),
        )
      ).rows;
      expect(claimed.map((row) => row.id)).toEqual([delivery.id]);
      const { rows } = await client.query<{ updates: string; hot: string }>(
        `SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_xact_user_tables WHERE relname = 'WebhookDelivery'`,
      );
      expect(rows[0]).toEqual({ updates: "1", hot: "1" });
      await client.query("ROLLBACK");
    } finally {
      await client.end();
    }
  });

  it("leaves room on each page for the new versions", async () => {
    const { rows } = await sqlOn<{ options: string[] | null }>(
      prisma,
      `SELECT reloptions AS options FROM pg_class WHERE oid = '"WebhookDelivery"'::regclass`,
    );
    expect(rows[0]?.options).toContain("fillfactor=60");
  });
});
