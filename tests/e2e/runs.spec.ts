import { expect, test, type Page } from "@playwright/test";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { e2eDatabase } from "./support/database";
import { DEMO, logIn, signUp, snapshot, uniqueEmail } from "./support/pages";

// The runs console, as the demo user (the first user of the fresh database: an operator) uses it.

function collectBrowserErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // A refused action answers 409 on purpose; Chromium logs every 4xx fetch.
    if (message.type() === "error" && !/status of 409/.test(message.text())) errors.push(message.text());
  });
  return errors;
}

async function logInAsDemo(page: Page) {
  await logIn(page, DEMO);
  await expect(page).toHaveURL(/\/dashboard$/);
  // Replay and cancel ask first.
  page.on("dialog", (dialog) => void dialog.accept());
}

/** A marker on the page's window: still there means the page was never reloaded, only its data. */
async function markPage(page: Page) {
  await page.evaluate(() => ((window as unknown as { __runsMarker: number }).__runsMarker = 1));
}
async function expectSamePage(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __runsMarker?: number }).__runsMarker)).toBe(1);
}

test("the demo data's run is listed, and a connected integration's runs appear within a second, with no reload", async ({
  page,
  context,
}) => {
  test.setTimeout(90_000);
  const errors = collectBrowserErrors(page);
  const receiver = await startWebhookReceiver();
  const db = await e2eDatabase();
  try {
    await logInAsDemo(page);
    // An endpoint for every event, so the integration's event has a delivery to show.
    await page.goto("/webhooks/endpoints/new");
    await page.getByLabel("Name", { exact: true }).fill("Runs receiver");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await expect(page.getByRole("heading", { name: "Runs receiver", level: 1 })).toBeVisible();

    await page.getByRole("navigation").getByRole("link", { name: "Runs", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Runs", level: 1 })).toBeVisible();
    await expect(page.getByTestId("run-row").first()).toBeVisible();
    await snapshot(page, "runs-list");
    // The demo data: the demo user's grant to the Demo Notes App, fanned out.
    const demoEvent = await db.query<{ id: string }>(
      `SELECT e.id FROM "WebhookEvent" e JOIN "User" u ON u.id = e."userId"
       WHERE u.email = $1 AND e.type = 'oauth.grant.created' ORDER BY e."createdAt" LIMIT 1`,
      [DEMO.email],
    );
    await page.getByLabel("Id or idempotency key").fill(demoEvent.rows[0]!.id);
    await page.getByRole("button", { name: "Filter" }).click();
    const demoRun = page.getByTestId("run-row");
    await expect(demoRun).toHaveCount(1);
    await expect(demoRun).toContainText("webhook-event-fanout");
    await expect(demoRun.getByTestId("run-status")).toHaveText("completed");
    await snapshot(page, "runs-list-demo-data");

    // From now on: only runs created after this moment, the page refreshing itself.
    await page.goto(`/runs?since=${new Date(Date.now() - 1_000).toISOString()}`);
    await expect(page.getByTestId("no-runs")).toBeVisible();
    await page.waitForLoadState("networkidle");
    await markPage(page);

    // Connect an integration in another tab while this one stays open.
    const other = await context.newPage();
    await other.goto("/integrations");
    await other.getByTestId("catalog-postmark").getByLabel("Server API token").fill("pm-valid-token");
    await other.getByTestId("catalog-postmark").getByRole("button", { name: "Connect Postmark" }).click();
    await expect(other.getByRole("status")).toHaveText("Connected Acme Transactional.");
    const connectedAt = Date.now();
    await other.close();

    const fanOut = page.getByTestId("run-row").filter({ hasText: "oauth-integration-webhook-delivery" });
    await expect(fanOut).toHaveCount(1, { timeout: 1_500 });
    const appearedAfterMs = Date.now() - connectedAt;
    test.info().annotations.push({ type: "fan-out run shown after", description: `${appearedAfterMs} ms` });
    expect(appearedAfterMs).toBeLessThan(1_500);
    const delivery = page
      .getByTestId("run-row")
      .filter({ hasText: "webhook-delivery" })
      .filter({ hasText: receiver.url });
    await expect(delivery.getByTestId("run-status")).toHaveText("completed", { timeout: 10_000 });
    await expectSamePage(page);
    await snapshot(page, "runs-list-live");

    // The delivery's run: its attempt, the receiver's answer, its event and the fan-out that made it.
    await delivery.getByRole("link", { name: "webhook-delivery" }).click();
    await expect(page.getByRole("heading", { name: "webhook-delivery", level: 1 })).toBeVisible();
    await expect(page.getByTestId("run-status").first()).toHaveText("completed");
    await expect(page.getByTestId("run-attempt")).toHaveCount(1);
    await expect(page.getByTestId("run-attempt")).toContainText("HTTP 200");
    await expect(page.getByTestId("run-event")).toContainText("integration.connected");
    await page.getByTestId("run-event").getByRole("link").click();
    await expect(page.getByRole("heading", { name: "oauth-integration-webhook-delivery", level: 1 })).toBeVisible();
    // Every delivery it made is listed (the demo user may have other endpoints too).
    await expect(page.getByTestId("run-delivery").filter({ hasText: "Runs receiver" })).toHaveCount(1);
    await expect(page.getByTestId("run-attempt")).toContainText("completed");
    await snapshot(page, "run-fan-out");

    // Replaying the delivery sends it once more, with the same webhook-id; the page follows it.
    await page.getByTestId("run-delivery").filter({ hasText: "Runs receiver" }).getByRole("link").click();
    await expect(page.getByRole("heading", { name: "webhook-delivery", level: 1 })).toBeVisible();
    await page.getByRole("button", { name: "Replay" }).click();
    await expect(page.getByTestId("run-attempt")).toHaveCount(2, { timeout: 15_000 });
    await expect(page.getByTestId("run-status").first()).toHaveText("completed");
    await expect(page.getByTestId("run-actions")).toContainText(`${DEMO.email} replayed it (one more attempt)`);
    await receiver.waitForCount(2);
    expect(new Set(receiver.received.map((request) => request.headers["webhook-id"])).size).toBe(1);
    await snapshot(page, "run-delivery-replayed");
    expect(errors).toEqual([]);
  } finally {
    await receiver.close();
    await db.end();
  }
});

test("a failing fan-out shows its error, stack and next retry; cancelled, it is never attempted again", async ({
  page,
}) => {
  test.setTimeout(90_000);
  const errors = collectBrowserErrors(page);
  const db = await e2eDatabase();
  try {
    await logInAsDemo(page);
    // An endpoint for every event: the fan-out has a recipient to build the event's envelope for.
    await page.goto("/webhooks/endpoints/new");
    await page.getByLabel("Name", { exact: true }).fill("Never reached");
    await page.getByLabel("URL", { exact: true }).fill("http://127.0.0.1:9/hook");
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await expect(page.getByRole("heading", { name: "Never reached", level: 1 })).toBeVisible();
    // An event whose payload its type's schema refuses: its fan-out fails, and retries.
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO "WebhookEvent" (id, type, "userId", source, payload)
       SELECT 'evt-broken-' || floor(random() * 1e9)::text, 'oauth.grant.revoked', id, 'e2e-broken', '{"user_id": 42}'::jsonb
       FROM "User" WHERE email = $1 RETURNING id`,
      [DEMO.email],
    );
    const eventId = rows[0]!.id;

    await page.goto(`/runs?q=${eventId}`);
    const row = page.getByTestId("run-row");
    await expect(row.getByTestId("run-status")).toHaveText("retrying", { timeout: 15_000 });
    await row.getByRole("link", { name: "webhook-event-fanout" }).click();
    await expect(page.getByRole("heading", { name: "webhook-event-fanout", level: 1 })).toBeVisible();
    const attempt = page.getByTestId("run-attempt").first();
    await expect(attempt.getByTestId("attempt-error")).toContainText("ZodError");
    await expect(attempt.getByTestId("attempt-stack")).toContainText("parseEventPayload");
    await expect(attempt.getByTestId("attempt-stack")).toContainText("integration-fanout.server.ts");
    await expect(attempt).toContainText("Retry planned for");
    await expect(page.getByTestId("run-payload")).toContainText(eventId);
    await snapshot(page, "run-failing-fan-out");

    // Cancel it while it waits for its next attempt (an attempt in progress refuses, and the next click lands).
    await expect(async () => {
      if (await page.getByRole("button", { name: "Cancel run" }).isVisible())
        await page.getByRole("button", { name: "Cancel run" }).click();
      await expect(page.getByTestId("run-status").first()).toHaveText("cancelled", { timeout: 2_000 });
    }).toPass({ timeout: 20_000 });
    await expect(page.getByTestId("run-actions")).toContainText(`${DEMO.email} cancelled it`);
    const attemptsWhenCancelled = await page.getByTestId("run-attempt").count();
    await snapshot(page, "run-cancelled");

    // Long past its next retry, nothing more happened.
    await page.waitForTimeout(5_000);
    await page.reload();
    await expect(page.getByTestId("run-status").first()).toHaveText("cancelled");
    await expect(page.getByTestId("run-attempt")).toHaveCount(attemptsWhenCancelled);
    const stored = await db.query<{ status: string; attempts: number }>(
      `SELECT r.status, (SELECT count(*) FROM "TaskRunAttempt" a WHERE a."runId" = r.id)::int AS attempts
       FROM "TaskRun" r WHERE r.payload->>'eventId' = $1`,
      [eventId],
    );
    expect(stored.rows).toEqual([{ status: "CANCELLED", attempts: attemptsWhenCancelled }]);
    expect(errors).toEqual([]);
  } finally {
    await db.end();
  }
});

test("replaying a run makes a new run with the same payload, linked both ways", async ({ page }) => {
  const errors = collectBrowserErrors(page);
  await logInAsDemo(page);
  await page.goto("/runs?task=webhook-event-fanout&status=completed");
  const original = page.getByTestId("run-row").filter({ hasText: "oauth.grant.created" }).first();
  await original.getByRole("link", { name: "webhook-event-fanout" }).click();
  const originalId = (await page.getByTestId("run-id").textContent())!;
  const payload = await page.getByTestId("run-payload").textContent();

  await page.getByRole("button", { name: "Replay" }).click();
  await expect(page.getByTestId("replay-of")).toBeVisible();
  const replayId = (await page.getByTestId("run-id").textContent())!;
  expect(replayId).not.toBe(originalId);
  await expect(page.getByTestId("replay-of").getByRole("link", { name: originalId })).toBeVisible();
  await expect(page.getByTestId("run-payload")).toHaveText(payload!);
  // It runs: the page follows it to the end.
  await expect(page.getByTestId("run-status").first()).toHaveText("completed", { timeout: 15_000 });
  await expect(page.getByTestId("run-attempt")).toHaveCount(1);
  await snapshot(page, "run-replayed");

  await page.getByTestId("replay-of").getByRole("link", { name: originalId }).click();
  await expect(page.getByTestId("run-actions")).toContainText(`${DEMO.email} replayed it as`);
  await expect(page.getByTestId("run-actions").getByRole("link", { name: replayId })).toBeVisible();
  expect(errors).toEqual([]);
});

test("the queues show each queue's limit, load and workers", async ({ page }) => {
  const errors = collectBrowserErrors(page);
  await logInAsDemo(page);
  await page.goto("/runs/queues");
  await expect(page.getByRole("heading", { name: "Queues", level: 1 })).toBeVisible();
  for (const queue of [
    "oauth-integration-webhook-delivery",
    "webhook-event-fanout",
    "integration-run",
    "integration-health-check",
    "webhook-delivery",
  ]) {
    await expect(page.locator(`[data-testid="queue-row"][data-queue="${queue}"]`)).toBeVisible();
  }
  await expect(page.locator('[data-testid="queue-row"][data-queue="webhook-delivery"]')).toContainText(
    "400 per worker",
  );
  await expect(page.getByTestId("worker-row").first()).toContainText("alive");
  await snapshot(page, "runs-queues");
  expect(errors).toEqual([]);
});

test("a user who is not an operator has no Runs: no link, and every runs page is a 404", async ({ page }) => {
  await signUp(page, { name: "Not An Operator", email: uniqueEmail("not-operator"), password: "a-long-password-9" });
  await expect(page.getByRole("navigation").getByRole("link", { name: "Runs", exact: true })).toHaveCount(0);
  for (const path of ["/runs", "/runs/queues", "/runs/delivery_anything", "/runs?status=failed"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^404/);
  }
  await snapshot(page, "runs-not-operator");
});
