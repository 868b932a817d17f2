import { expect, test, type Page } from "@playwright/test";
import { verifyWebhook } from "../../app/lib/webhooks/signing";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { DEMO, logIn, signUp, snapshot, uniqueEmail } from "./support/pages";

function collectBrowserErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // A refused form answers 400 on purpose; Chromium logs every 4xx fetch.
    if (message.type() === "error" && !message.text().includes("status of 400 (Bad Request)")) {
      errors.push(`console: ${message.text()}`);
    }
  });
  return errors;
}

const SCHEMA = JSON.stringify(
  {
    type: "object",
    properties: { id: { type: "string" }, amount: { type: "number", minimum: 0 } },
    required: ["id", "amount"],
  },
  null,
  2,
);

test("an operator adds a custom event type in the browser, an endpoint subscribes to it, and a published event arrives", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const errors = collectBrowserErrors(page);
  const receiver = await startWebhookReceiver();
  try {
    // The demo user is the first user, so an operator.
    await logIn(page, DEMO);
    await page.getByRole("link", { name: "Event types" }).click();
    await expect(page.getByRole("heading", { name: "Event types", level: 1 })).toBeVisible();
    await expect(page.getByTestId("custom-event-types").getByRole("link", { name: "order.created" })).toBeVisible();
    await expect(
      page.getByTestId("built-in-event-types").getByRole("link", { name: "integration.connected" }),
    ).toBeVisible();
    await expect(
      page.getByTestId("operational-event-types").getByRole("link", { name: "delivery.exhausted" }),
    ).toBeVisible();
    await snapshot(page, "event-types-list");

    // A refused form keeps what was typed, with each problem beside its field.
    await page.getByRole("link", { name: "New event type" }).click();
    await expect(page.getByRole("heading", { name: "New event type", level: 1 })).toBeVisible();
    await page.getByLabel("Name").fill("Refund Issued");
    await page.getByLabel("Payload JSON Schema").fill('{"type": "object", "requried": ["id"]}');
    await page.getByLabel("Example payload").fill("{id: 1}");
    await page.getByRole("button", { name: "Create event type" }).click();
    await expect(page.getByText("This is not valid JSON")).toBeVisible();
    await page.getByLabel("Example payload").fill('{"id": "rf_1"}');
    await page.getByRole("button", { name: "Create event type" }).click();
    await expect(page.getByText("lowercase words (a-z, 0-9, _) separated by dots")).toBeVisible();
    await expect(page.getByText("Describe when this event happens")).toBeVisible();
    await page.getByLabel("Name").fill("refund.issued");
    await page.getByLabel("Description").fill("A refund was issued to a customer.");
    await page.getByRole("button", { name: "Create event type" }).click();
    await expect(page.getByText('strict mode: unknown keyword: "requried"')).toBeVisible();
    await expect(page.getByLabel("Payload JSON Schema")).toHaveValue('{"type": "object", "requried": ["id"]}');
    await page.getByLabel("Payload JSON Schema").fill(SCHEMA);
    await page.getByRole("button", { name: "Create event type" }).click();
    await expect(page.getByText("amount: Required (the example must match the schema)")).toBeVisible();
    await snapshot(page, "event-type-new-errors");
    await page.getByLabel("Example payload").fill('{"id": "rf_1", "amount": 12.5}');
    await page.getByRole("button", { name: "Create event type" }).click();

    await expect(page.getByRole("heading", { name: "refund.issued", level: 1 })).toBeVisible();
    await expect(page.getByText("Custom event")).toBeVisible();
    await snapshot(page, "event-type-created");

    // Edit it, archive it (nothing more can be published), restore it.
    await page.getByLabel("Description").fill("A refund was issued, in part or in full.");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("status")).toHaveText("Saved.");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Archive" }).click();
    await expect(page.getByTestId("event-type-archived")).toBeVisible();
    await snapshot(page, "event-type-archived");
    await page.getByRole("link", { name: "← Event types" }).click();
    await expect(page.getByTestId("archived-event-types").getByRole("link", { name: "refund.issued" })).toBeVisible();
    await page.getByTestId("archived-event-types").getByRole("link", { name: "refund.issued" }).click();
    await page.getByRole("button", { name: "Restore" }).click();
    await expect(page.getByTestId("event-type-archived")).toHaveCount(0);

    // An endpoint subscribes to it: the endpoint form lists the custom types first.
    await page.getByRole("link", { name: "Endpoints" }).click();
    await page.getByRole("link", { name: "New endpoint" }).click();
    const custom = page.getByTestId("event-group-custom");
    await expect(custom.getByText("refund.issued")).toBeVisible();
    await snapshot(page, "endpoint-new-custom-types");
    await page.getByLabel("Name", { exact: true }).fill("Refunds");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await custom.getByRole("checkbox", { name: /refund\.issued/ }).check();
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await expect(page.getByRole("heading", { name: "Refunds", level: 1 })).toBeVisible();
    const secret = (await page.getByTestId("secret-once").textContent())!;

    // A key, and a published event of the new type, delivered signed and shown in the log.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByLabel("Name").fill("backend");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.getByTestId("secret-once").textContent())!;
    const answer = await page.request.post("/api/v1/events", {
      headers: { Authorization: `Bearer ${key}`, "Idempotency-Key": `refund-${Date.now()}` },
      data: { eventType: "refund.issued", payload: { id: "rf_1", amount: 12.5 } },
    });
    expect(answer.status()).toBe(202);
    const published = (await answer.json()) as { id: string };
    await receiver.waitForCount(1, 30_000);
    const delivered = receiver.received[0]!;
    expect(JSON.parse(delivered.body)).toMatchObject({
      event: { id: published.id, type: "refund.issued", payload: { id: "rf_1", amount: 12.5 } },
    });
    expect(verifyWebhook(delivered.body, delivered.headers, [secret])).toMatchObject({ ok: true });
    await page.goto("/webhooks?eventType=refund.issued");
    await expect(page.getByRole("heading", { name: "Webhook deliveries", level: 1 })).toBeVisible();
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId("delivery-status").first()).toHaveText("success", { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await snapshot(page, "deliveries-custom-type");
    expect(errors).toEqual([]);
  } finally {
    await receiver.close();
  }
});

test("a user who is not an operator reads the catalog but cannot change it", async ({ page }) => {
  const errors = collectBrowserErrors(page);
  await signUp(page, { name: "Reader", email: uniqueEmail("catalog-reader"), password: "a-long-password-8" });
  await page.getByRole("link", { name: "Event types" }).click();
  await expect(page.getByRole("heading", { name: "Event types", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "New event type" })).toHaveCount(0);
  await page.getByTestId("custom-event-types").getByRole("link", { name: "order.created" }).click();
  await expect(page.getByRole("heading", { name: "order.created", level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Payload JSON Schema" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Archive" })).toHaveCount(0);
  await snapshot(page, "event-type-read-only");
  const response = await page.goto("/event-types/new");
  expect(response?.status()).toBe(404);
  expect(errors.filter((error) => !error.includes("404"))).toEqual([]);
});
