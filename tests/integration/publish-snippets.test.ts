import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { verifyWebhook } from "~/lib/webhooks/signing";
import { apiUser } from "../support/api-client";
import { startEchoServer, type RunningEcho } from "../support/echo-server";
import { waitFor } from "../support/wait";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";

// The "send your own events" examples of README.md and docs/WEBHOOKS.md (curl, Node.js, Python), run as a
// reader would run them against a real Echo started with its demo event types: each event reaches a subscribed
// endpoint, signed, once however often it is sent with the same key; a payload that does not match is refused
// with its path.
const SNIPPETS = [
  "docs/snippets/publish-event.sh",
  "docs/snippets/publish-event.mjs",
  "docs/snippets/publish_event.py",
];
let echo: RunningEcho;
let inbox: WebhookReceiver;
let env: NodeJS.ProcessEnv;
let secret: string;

beforeAll(async () => {
  inbox = await startWebhookReceiver();
  // The demo's custom types (order.created, order.paid, …), as a fresh `npm start` has them.
  echo = await startEchoServer({ databaseUrl: process.env.DATABASE_URL as string, env: { SEED_DEMO_DATA: "true" } });
  const me = await apiUser(prisma, echo.url);
  const created = await me.call("/endpoints", {
    method: "POST",
    json: {
      name: "Shop",
      url: inbox.url,
      eventTypes: ["order.created", "order.paid", "order.shipped", "order.refunded"],
    },
  });
  expect(created.status, await created.clone().text()).toBe(201);
  secret = ((await created.json()) as { secret: string }).secret;
  env = { ...process.env, ECHO_URL: echo.url, ECHO_API_KEY: me.key };
}, 90_000);

afterAll(async () => {
  await echo?.stop();
  await inbox?.close();
});

type Published = { id: string; eventType: string; replayed: boolean; idempotencyKey: string | null };

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { env, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

function published(output: { status: number | null; stdout: string; stderr: string }): Published {
  expect(output.status, output.stderr).toBe(0);
  return JSON.parse(output.stdout) as Published;
}

/** Waits for the event at the receiver; returns its one delivery (checked: signed with the endpoint's secret). */
async function delivered(eventId: string) {
  const matching = () =>
    inbox.received.filter((request) => (JSON.parse(request.body) as { event: { id: string } }).event.id === eventId);
  await waitFor(async () => matching().length > 0);
  // Long enough for a second delivery to show up, were there one.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(matching()).toHaveLength(1);
  const request = matching()[0]!;
  expect(verifyWebhook(request.body, request.headers, [secret])).toMatchObject({ ok: true });
  return JSON.parse(request.body) as { event: { type: string; payload: Record<string, unknown> } };
}

describe("the docs", () => {
  it.each(SNIPPETS)("docs/WEBHOOKS.md shows %s exactly as it is run here", (file) => {
    expect(readFileSync("docs/WEBHOOKS.md", "utf8")).toContain(readFileSync(file, "utf8").trim());
  });
});

describe("the README's commands", () => {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("## Send your own events"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const commands = block.split("\n\n").map((command) => command.trim());

  it("are curl, Node.js and Python", () => {
    expect(commands.map((command) => command.split(" ")[0])).toEqual(["sh", "node", "python3"]);
  });

  it.each(commands.map((command) => [command.split(" ")[0]!, command] as const))(
    "%s: publishes an event that the subscribed endpoint receives, signed, and the same again is the same event",
    async (_name, command) => {
      const first = published(run("sh", ["-c", command]));
      expect(first).toMatchObject({ replayed: false, id: expect.stringMatching(/^evt_/) });
      const envelope = await delivered(first.id);
      expect(envelope.event.type).toBe(first.eventType);

      const again = published(run("sh", ["-c", command]));
      expect(again).toMatchObject({ id: first.id, replayed: true });
      await delivered(first.id);
    },
  );
});

describe.each([
  ["Node.js", process.execPath, "docs/snippets/publish-event.mjs"],
  ["Python", "python3", "docs/snippets/publish_event.py"],
])("the %s snippet", (name, command, file) => {
  const payload = { id: "ord_77", customer_id: "cus_1", total: 10, currency: "EUR", amount_refunded: 2.5 };

  it("publishes with an idempotency key of its own making when none is given", () => {
    const first = published(run(command, [file, "order.refunded", JSON.stringify(payload)]));
    const second = published(run(command, [file, "order.refunded", JSON.stringify(payload)]));
    expect(first.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.id).not.toBe(first.id);
  });

  it("says what is wrong with a payload that does not match, with the failing paths, and exits 1", () => {
    const refused = run(command, [file, "order.refunded", JSON.stringify({ ...payload, total: -1, currency: "XYZ" })]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("Echo refused the event (400");
    expect(refused.stderr).toContain("payload.total: Must be >= 0");
    expect(refused.stderr).toContain("payload.currency: Must be equal to one of the allowed values");
  });

  it(`refuses an unknown type with 404 (${name})`, () => {
    const refused = run(command, [file, "order.teleported", "{}"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("(404");
  });
});

describe("the curl snippet", () => {
  it("exits non-zero with the problem when Echo refuses the key", () => {
    const refused = spawnSync("sh", ["docs/snippets/publish-event.sh"], {
      env: { ...env, ECHO_API_KEY: "echo_sk_not-a-key" },
      encoding: "utf8",
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).toContain('"status":401');
  });
});
