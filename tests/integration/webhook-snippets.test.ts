import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { attemptWebhookDelivery } from "~/services/webhooks/deliver-webhook.server";
import { fanOutIntegrationEvent } from "~/services/webhooks/integration-fanout.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from "../support/webhook-receiver";

// The verification snippets in docs/WEBHOOKS.md, run against a real Echo delivery.
let inbox: WebhookReceiver;
let delivered: ReceivedWebhook;
let secret: string;

beforeAll(async () => {
  inbox = await startWebhookReceiver();
  const user = await createUser(prisma);
  const owner = await createUser(prisma);
  const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
  secret = app.secret!;
  const { eventId } = await connectIntegration(prisma, {
    userId: user.id,
    definition: await createIntegrationDefinition(prisma),
  });
  await fanOutIntegrationEvent(eventId);
  const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId } });
  expect(await attemptWebhookDelivery(delivery.id)).toMatchObject({ outcome: "delivered" });
  delivered = inbox.received[0]!;
});

afterAll(() => inbox.close());

function run(command: string, args: string[], input: unknown): string {
  const result = spawnSync(command, args, { input: JSON.stringify(input), encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout.trim();
}

const snippets = [
  ["Python", "python3", ["docs/snippets/verify-webhook.py"]],
  ["Node.js", process.execPath, ["docs/snippets/verify-webhook.mjs"]],
] as const;

describe.each(snippets)("the %s snippet", (_name, command, args) => {
  it("accepts a real delivery", () => {
    expect(run(command, [...args], { body: delivered.body, headers: delivered.headers, secret })).toBe("valid");
  });

  it("rejects a tampered body", () => {
    const body = delivered.body.replace("integration.connected", "integration.disconnected");
    expect(run(command, [...args], { body, headers: delivered.headers, secret })).toBe("invalid: no valid signature");
  });

  it("rejects the wrong secret", () => {
    expect(
      run(command, [...args], {
        body: delivered.body,
        headers: delivered.headers,
        secret: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      }),
    ).toBe("invalid: no valid signature");
  });

  it("rejects a stale timestamp", () => {
    const headers = { ...delivered.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 600) };
    expect(run(command, [...args], { body: delivered.body, headers, secret })).toBe(
      "invalid: timestamp outside the tolerance: possible replay",
    );
  });
});
