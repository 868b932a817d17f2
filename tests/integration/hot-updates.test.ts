import { describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { sqlOn } from "~/services/database/sql.server";

/**
 * An attempt updates its delivery twice (the claim, then the record). PostgreSQL writes those
 * as HOT updates, with no index entries, only while no index covers a column they change and
 * the row's page has room (docs/PERFORMANCE.md). Re-adding an index on status, say, would
 * quietly double the delivery path's index writes; this says so.
 */
const COLUMNS_AN_ATTEMPT_CHANGES = [
  "status",
  "attemptCount",
  "lockedUntil",
  "updatedAt",
  "lastStatusCode",
  "lastError",
  "nextAttemptAt",
  "completedAt",
];

describe("WebhookDelivery updates can be HOT", () => {
  it("indexes none of the columns an attempt changes, in keys or predicates", async () => {
    const { rows } = await sqlOn<{ index: string; definition: string }>(
      prisma,
      `SELECT i.relname AS index, pg_get_indexdef(i.oid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = '"WebhookDelivery"'::regclass`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { index, definition } of rows) {
      for (const column of COLUMNS_AN_ATTEMPT_CHANGES)
        expect(definition.includes(`"${column}"`) || new RegExp(`\\b${column}\\b`).test(definition), index).toBe(false);
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
