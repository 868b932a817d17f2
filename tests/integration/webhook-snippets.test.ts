import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { verifyWebhook } from "~/lib/webhooks/signing";
import { attemptWebhookDelivery } from "~/services/webhooks/deliver-webhook.server";
import { EndpointCreateSchema, createEndpoint, revealEndpointSecret } from "~/services/webhooks/endpoints.server";
import { fanOutIntegrationEvent } from "~/services/webhooks/integration-fanout.server";
import { sendTestEvent } from "~/services/webhooks/test-event.server";
import {
  connectIntegration,
  createIntegrationDefinition,
  createOAuthApp,
  createUser,
} from "../support/fixtures/webhooks";
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from "../support/webhook-receiver";

// The verification snippets in docs/WEBHOOKS.md, run against real Echo deliveries: one to an
// OAuth app (flat payload) and one to an endpoint (the envelope).
let inbox: WebhookReceiver;
const deliveries: Record<"app" | "endpoint", { delivered: ReceivedWebhook; secret: string }> = {} as never;

beforeAll(async () => {
  inbox = await startWebhookReceiver();
  const user = await createUser(prisma);
  const owner = await createUser(prisma);
  const app = await createOAuthApp(prisma, { ownerId: owner.id, grantUserId: user.id, webhookUrl: inbox.url });
  const { eventId } = await connectIntegration(prisma, {
    userId: user.id,
    definition: await createIntegrationDefinition(prisma),
  });
  await fanOutIntegrationEvent(eventId);
  const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { eventId } });
  expect(await attemptWebhookDelivery(delivery.id)).toMatchObject({ outcome: "delivered" });
  deliveries.app = { delivered: inbox.received[0]!, secret: app.secret! };

  const endpoint = await createEndpoint(
    { userId: user.id },
    EndpointCreateSchema.parse({ name: "Snippets", url: inbox.url }),
  );
  expect(await sendTestEvent({ userId: user.id }, endpoint.id)).toMatchObject({ outcome: "delivered" });
  deliveries.endpoint = {
    delivered: inbox.received[1]!,
    secret: await revealEndpointSecret({ userId: user.id }, endpoint.id),
  };
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

const cases = (["app", "endpoint"] as const).flatMap((target) =>
  snippets.map(([name, command, args]) => [name, target, command, args] as const),
);

describe.each(cases)("the %s snippet, on a delivery to an %s", (_name, target, command, args) => {
  it("accepts a real delivery", () => {
    const { delivered, secret } = deliveries[target];
    expect(run(command, [...args], { body: delivered.body, headers: delivered.headers, secret })).toBe("valid");
  });

  it("rejects a tampered body", () => {
    const { delivered, secret } = deliveries[target];
    const body = delivered.body.replace(/"event":/, '"event" :');
    expect(run(command, [...args], { body, headers: delivered.headers, secret })).toBe("invalid: no valid signature");
  });

  it("rejects the wrong secret", () => {
    const { delivered } = deliveries[target];
    expect(
      run(command, [...args], {
        body: delivered.body,
        headers: delivered.headers,
        secret: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      }),
    ).toBe("invalid: no valid signature");
  });

  it("rejects a stale timestamp", () => {
    const { delivered, secret } = deliveries[target];
    const headers = { ...delivered.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 600) };
    expect(run(command, [...args], { body: delivered.body, headers, secret })).toBe(
      "invalid: timestamp outside the tolerance: possible replay",
    );
  });
});

describe.each(["app", "endpoint"] as const)("the TypeScript verifier, on a delivery to an %s", (target) => {
  it("accepts the real delivery in each of the three formats Echo sends", () => {
    const { delivered, secret } = deliveries[target];
    const headers = delivered.headers as Record<string, string>;
    const standard = ["webhook-id", "webhook-timestamp", "webhook-signature"];
    const timestamped = ["x-webhook-timestamp", "x-webhook-signature"];
    const only = (names: string[]) => Object.fromEntries(names.map((name) => [name, headers[name]]));
    expect(verifyWebhook(delivered.body, only(standard), [secret])).toMatchObject({
      ok: true,
      format: "standard-webhooks",
    });
    expect(verifyWebhook(delivered.body, only(timestamped), [secret])).toMatchObject({
      ok: true,
      format: "timestamped",
    });
    expect(
      verifyWebhook(delivered.body, only(["x-webhook-secret"]), [secret], { allowLegacyBodyOnly: true }),
    ).toMatchObject({ ok: true, format: "legacy" });
  });

  it("rejects a tampered body and a stale timestamp", () => {
    const { delivered, secret } = deliveries[target];
    expect(verifyWebhook(`${delivered.body} `, delivered.headers, [secret])).toEqual({
      ok: false,
      reason: "invalid_signature",
    });
    expect(
      verifyWebhook(delivered.body, delivered.headers, [secret], {
        now: Date.now() / 1000 + 301,
        toleranceSeconds: 300,
      }),
    ).toEqual({ ok: false, reason: "stale_timestamp" });
  });
});
