import pg from "pg";
import { describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { sqlOn } from "~/services/database/sql.server";
import { CLAIM_LOCK_SQL, CLAIM_SQL, claimValues } from "~/services/webhooks/delivery-queue.server";
import { createOAuthApp, createUser, insertDeliveries } from "../support/fixtures/webhooks";

type PlanNode = {
  "Node Type": string;
  "Relation Name"?: string;
  "Rows Removed by Join Filter"?: number;
  Plans?: PlanNode[];
};

function* nodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* nodes(child);
}

/**
 * A claim must cost what it takes, whatever history the table holds. Once finished deliveries
 * dominate, the statistics say the open-deliveries index is nearly empty; a statement that let
 * the planner use it to find the picked rows got a nested loop of open rows × picked rows
 * (measured: 0.2–0.7 s a claim with 100,000 finished deliveries, instead of 10 ms).
 */
describe("the delivery claim's plan with history in the table", () => {
  it("claims 200 of 600 due deliveries without comparing every open row with every picked one", async () => {
    const user = await createUser(prisma);
    const app = await createOAuthApp(prisma, {
      ownerId: user.id,
      grantUserId: user.id,
      webhookUrl: "https://example.com/hook",
    });
    const history = { userId: user.id, appId: app.id, url: "https://example.com/hook" };
    await insertDeliveries(prisma, { ...history, prefix: "finished", count: 20_000, finished: true });
    await sqlOn(prisma, `ANALYZE "WebhookDelivery"`);
    await insertDeliveries(prisma, { ...history, prefix: "open", count: 600 });

    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query(CLAIM_LOCK_SQL);
      const values = claimValues({ workerId: "plan-test", wanted: 200, perTarget: 400, inFlightByTarget: new Map() });
      const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${CLAIM_SQL}`,
        values,
      );
      const plan = rows[0]!["QUERY PLAN"][0].Plan;
      const all = [...nodes(plan)];
      const claimUpdate = all.find(
        (node) => node["Node Type"] === "ModifyTable" && node["Relation Name"] === "WebhookDelivery",
      );
      expect(claimUpdate, JSON.stringify(plan)).toBeDefined();
      const worstJoinFilter = Math.max(0, ...all.map((node) => node["Rows Removed by Join Filter"] ?? 0));
      expect(worstJoinFilter, "rows compared and thrown away by a join filter").toBeLessThan(5_000);
      const { rows: sending } = await client.query<{ count: string }>(
        `SELECT count(*) FROM "WebhookDelivery" WHERE status = 'SENDING'`,
      );
      expect(sending[0]!.count).toBe("200");
      await client.query("ROLLBACK");
    } finally {
      await client.end();
    }
  });
});
