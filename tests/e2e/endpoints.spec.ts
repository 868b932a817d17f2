import { expect, test, type Page } from "@playwright/test";
import { verifyWebhook } from "../../app/lib/webhooks/signing";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { signUp, snapshot, uniqueEmail } from "./support/pages";

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

/** Reloads until the delivery page shows `status` (deliveries run on the engine, a moment later). */
async function expectDeliveryStatus(page: Page, status: string) {
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("delivery-status").first()).toHaveText(status, { timeout: 1_000 });
  }).toPass({ timeout: 45_000 });
}

test("an endpoint made in the browser receives a test event; a failure is retried on schedule, then by hand", async ({
  page,
}) => {
  // It waits for a real retry (8 s) and a retry by hand; on a busy machine that takes a while.
  test.setTimeout(150_000);
  const errors = collectBrowserErrors(page);
  const receiver = await startWebhookReceiver({ status: 200, body: "thanks" });
  try {
    await signUp(page, { name: "Endpoint Owner", email: uniqueEmail("endpoints"), password: "a-long-password-7" });
    await page.getByRole("link", { name: "Endpoints" }).click();
    await expect(page.getByRole("heading", { name: "Webhook endpoints", level: 1 })).toBeVisible();
    await expect(page.getByText("No endpoints yet.")).toBeVisible();
    await snapshot(page, "endpoints-empty");

    // A refused form keeps the page, with each message beside its field.
    await page.getByRole("link", { name: "New endpoint" }).click();
    await expect(page.getByRole("heading", { name: "New endpoint", level: 1 })).toBeVisible();
    await page.getByLabel("URL", { exact: true }).fill("ftp://example.com/hook");
    await page.getByLabel("Timeout (5–300 s)").fill("1");
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await expect(page.getByText("Give the endpoint a name")).toBeVisible();
    await expect(page.getByText("The timeout must be at least 5 seconds")).toBeVisible();
    await snapshot(page, "endpoint-new-errors");

    await page.getByLabel("Name", { exact: true }).fill("Local receiver");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("Timeout (5–300 s)").fill("10");
    // One retry, 8 s (±20%) after a failure: long enough to see it scheduled, short enough to wait for.
    await page.getByLabel("Retries (0–10)").fill("1");
    await page.getByLabel("First retry after (s)").fill("8");
    await page.getByLabel("Header 1 name").fill("X-Api-Key");
    await page.getByLabel("Header 1 value").fill("key-that-must-stay-hidden");
    await page.getByRole("button", { name: "Add header" }).click();
    await page.getByLabel("Header 2 name").fill("X-Team");
    await page.getByLabel("Header 2 value").fill("blue");
    await page.getByRole("button", { name: "Create endpoint" }).click();

    await expect(page.getByRole("heading", { name: "Local receiver", level: 1 })).toBeVisible();
    await expect(page.getByTestId("endpoint-state")).toHaveText("active");
    const secret = (await page.getByTestId("secret-once").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await expect(page.locator("body")).not.toContainText("key-that-must-stay-hidden");
    await snapshot(page, "endpoint-created");
    const endpointUrl = page.url();

    // The secret is shown once: a reload does not show it again.
    await page.reload();
    await expect(page.getByTestId("secret-once")).toHaveCount(0);

    // A test event, answered 200.
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect(page.getByTestId("test-outcome")).toHaveText("Delivered");
    await expect(page.getByTestId("test-result")).toContainText("200");
    await expect(page.getByTestId("test-result")).toContainText("thanks");
    expect(receiver.received).toHaveLength(1);
    const first = receiver.received[0]!;
    expect(first.headers["x-api-key"]).toBe("key-that-must-stay-hidden");
    expect(first.headers["x-team"]).toBe("blue");
    expect(verifyWebhook(first.body, first.headers as Record<string, string>, [secret])).toMatchObject({ ok: true });
    await snapshot(page, "endpoint-test-sent");

    await page.getByRole("link", { name: "Webhooks", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Webhook deliveries", level: 1 })).toBeVisible();
    const row = page.getByTestId("delivery-row").first();
    await expect(row.getByTestId("delivery-status")).toHaveText("success");
    await expect(row).toContainText("webhook.test");
    await expect(row).toContainText("Local receiver");
    await page.locator("select[name=endpointId]").selectOption({ label: "Local receiver" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/endpointId=/);
    await expect(page.getByTestId("delivery-row")).toHaveCount(1);
    await snapshot(page, "deliveries-log");

    // The receiver breaks: the test send fails and a retry is scheduled.
    receiver.setDefault({ status: 500, body: "receiver is down" });
    await page.goto(endpointUrl);
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect(page.getByTestId("test-outcome")).toHaveText("Failed; Echo will retry");
    await expect(page.getByTestId("test-result")).toContainText("500");
    await expect(page.getByTestId("test-result")).toContainText("receiver is down");
    await expect(page.getByTestId("test-result")).toContainText(/Next retry\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    await page.getByRole("link", { name: "View the delivery" }).click();
    await expect(page).toHaveURL(/\/webhooks\/deliveries\//);
    // The URL changes before the new page renders; until then the endpoint page's recent deliveries (two status
    // chips) are still on screen.
    await expect(page.getByRole("link", { name: "← All deliveries" })).toBeVisible();
    await expect(page.getByTestId("delivery-status")).toHaveText("retrying");
    await expect(page.getByTestId("next-retry")).toContainText(/Next attempt scheduled at \d{4}-\d{2}-\d{2}/);
    await expect(page.getByTestId("scheduled-attempt")).toContainText("Attempt #2 scheduled at");
    await expect(page.getByTestId("response-body")).toHaveText("receiver is down");
    await snapshot(page, "delivery-retry-scheduled");

    // The scheduled retry fails too; that was the last one.
    await receiver.waitForCount(3, 20_000);
    await expectDeliveryStatus(page, "failed");
    await expect(page.getByTestId("attempt")).toHaveCount(2);

    // Fixed; retried by hand.
    receiver.setDefault({ status: 200, body: "back up" });
    await page.getByRole("button", { name: "Retry now" }).click();
    await expectDeliveryStatus(page, "success");
    await expect(page.getByTestId("attempt")).toHaveCount(3);
    await snapshot(page, "delivery-retried-by-hand");

    expect(errors).toEqual([]);
  } finally {
    await receiver.close();
  }
});

test("the endpoint page reveals and rotates the secret, pauses, edits without echoing credentials, shows stats and deletes", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const errors = collectBrowserErrors(page);
  const receiver = await startWebhookReceiver({ status: 204 });
  try {
    await signUp(page, { name: "Secret Keeper", email: uniqueEmail("endpoint-admin"), password: "a-long-password-8" });
    await page.goto("/webhooks/endpoints/new");
    await page.getByLabel("Name", { exact: true }).fill("Billing hooks");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("Use my own").check();
    const ownSecret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    await page.getByLabel("Your secret").fill(ownSecret);
    await page.getByLabel("oauth.grant.created").check();
    await page.getByLabel("Header 1 name").fill("Authorization");
    await page.getByLabel("Header 1 value").fill("Bearer hidden-token-42");
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await expect(page.getByRole("heading", { name: "Billing hooks", level: 1 })).toBeVisible();
    // A pasted secret is the owner's own: not shown back.
    await expect(page.getByTestId("secret-once")).toHaveCount(0);
    await expect(page.getByText("Authorization: (hidden)")).toBeVisible();

    await page.getByRole("button", { name: "Reveal secret" }).click();
    await expect(page.getByTestId("secret-once")).toHaveText(ownSecret);

    page.on("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await expect(page.getByText("The old secret keeps signing too, for 24 hours")).toBeVisible();
    const rotated = (await page.getByTestId("secret-once").textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(ownSecret);
    await expect(page.getByText(/The previous secret also signs until/)).toBeVisible();
    await snapshot(page, "endpoint-secret-rotated");

    await page.getByRole("button", { name: "Pause" }).click();
    await expect(page.getByTestId("endpoint-state")).toHaveText("paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await expect(page.getByTestId("endpoint-state")).toHaveText("active");

    await page.getByRole("button", { name: "Retry all failed" }).click();
    await expect(page.getByText("No failed deliveries since then.")).toBeVisible();

    await page.getByRole("link", { name: "Edit" }).click();
    await expect(page.getByRole("heading", { name: "Edit endpoint", level: 1 })).toBeVisible();
    expect(await page.content()).not.toContain("hidden-token-42");
    await expect(page.getByLabel("oauth.grant.created")).toBeChecked();
    await page.getByLabel("Name", { exact: true }).fill("Billing hooks (v2)");
    await page.getByRole("checkbox", { name: /^Enabled \(switched off/ }).uncheck();
    await snapshot(page, "endpoint-edit");
    await page.getByRole("button", { name: "Save endpoint" }).click();
    await expect(page.getByRole("heading", { name: "Billing hooks (v2)", level: 1 })).toBeVisible();
    await expect(page.getByTestId("endpoint-state")).toHaveText("switched off");

    // The hidden header value survived the save untouched.
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("checkbox", { name: /^Enabled \(switched off/ }).check();
    await page.getByRole("button", { name: "Save endpoint" }).click();
    await expect(page.getByTestId("endpoint-state")).toHaveText("active");
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect(page.getByTestId("test-outcome")).toHaveText("Delivered");
    expect(receiver.received.at(-1)!.headers.authorization).toBe("Bearer hidden-token-42");

    await page.getByRole("link", { name: "Stats" }).click();
    await expect(page.getByRole("heading", { name: "Stats: Billing hooks (v2)", level: 1 })).toBeVisible();
    await expect(page.getByTestId("stats-summary")).toContainText("100.0 %");
    await expect(page.getByTestId("deliveries-chart").getByRole("application")).toBeVisible();
    await expect(page.getByTestId("latency-chart").getByRole("application")).toBeVisible();
    await page.getByRole("link", { name: "1h", exact: true }).click();
    await expect(page).toHaveURL(/window=1h/);
    await expect(page.getByTestId("deliveries-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
    await page.waitForLoadState("networkidle");
    await snapshot(page, "endpoint-stats");

    await page.getByRole("link", { name: "← Billing hooks (v2)" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    await expect(page).toHaveURL(/\/webhooks\/endpoints$/);
    await expect(page.getByText("No endpoints yet.")).toBeVisible();

    expect(errors).toEqual([]);
  } finally {
    await receiver.close();
  }
});
