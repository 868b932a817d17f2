import { expect, test, type Page } from "@playwright/test";
import { DEMO, logIn, snapshot } from "./support/pages";

/** Every page must render and hydrate with no error in the browser's console. */
function collectBrowserErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  return errors;
}

test("public pages hydrate without errors", async ({ page }) => {
  const errors = collectBrowserErrors(page);
  for (const path of ["/", "/login", "/signup"]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
  }
  expect(errors).toEqual([]);
});

test("signed-in pages hydrate without errors", async ({ page }) => {
  const errors = collectBrowserErrors(page);
  await logIn(page, DEMO);
  await expect(page).toHaveURL(/\/dashboard$/);
  for (const [path, heading] of [
    ["/dashboard", "Welcome, Demo User"],
    ["/integrations", "Integrations"],
    ["/webhooks", "Webhook deliveries"],
    ["/webhooks?status=FAILED", "Webhook deliveries"],
    ["/webhooks?eventType=webhook.test&status=SUCCESS", "Webhook deliveries"],
    ["/webhooks/endpoints", "Webhook endpoints"],
    ["/webhooks/endpoints/new", "New endpoint"],
    ["/event-types", "Event types"],
    ["/event-types/new", "New event type"],
    ["/event-types/order.created", "order.created"],
    ["/developers/apps", "OAuth apps"],
    ["/developers/apps/new", "New OAuth app"],
    ["/settings/connected-apps", "Connected apps"],
    ["/settings/api-keys", "API keys"],
  ] as const) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    await page.waitForLoadState("networkidle");
  }
  await page.goto("/developers/apps");
  await page.getByRole("link", { name: "Demo Notes App" }).click();
  await expect(page.getByRole("heading", { name: "Demo Notes App", level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "Webhook settings" }).click();
  await expect(page.getByRole("heading", { name: "Webhook settings", level: 1 })).toBeVisible();
  await page.waitForLoadState("networkidle");
  await snapshot(page, "webhooks-empty");
  expect(errors).toEqual([]);
});

test("endpoint pages hydrate without errors, charts included (no CSP violations)", async ({ page }) => {
  const errors = collectBrowserErrors(page);
  await logIn(page, DEMO);
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.goto("/webhooks/endpoints/new");
  await page.getByLabel("Name", { exact: true }).fill("Hydration check");
  await page.getByLabel("URL", { exact: true }).fill("http://127.0.0.1:9/hook");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await expect(page.getByRole("heading", { name: "Hydration check", level: 1 })).toBeVisible();
  const endpointPath = new URL(page.url()).pathname;
  for (const [path, heading] of [
    [endpointPath, "Hydration check"],
    [`${endpointPath}/edit`, "Edit endpoint"],
    [`${endpointPath}/stats`, "Stats: Hydration check"],
    [`${endpointPath}/stats?window=30d`, "Stats: Hydration check"],
    [`/webhooks?endpointId=${endpointPath.split("/").pop()}`, "Webhook deliveries"],
  ] as const) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    await page.waitForLoadState("networkidle");
  }
  await page.goto(`${endpointPath}/stats`);
  await expect(page.getByTestId("deliveries-chart").getByRole("application")).toBeVisible();
  await expect(page.getByTestId("latency-chart").getByRole("application")).toBeVisible();
  await page.goto("/webhooks/endpoints");
  await page.waitForLoadState("networkidle");
  await snapshot(page, "endpoints-list");
  expect(errors).toEqual([]);
});
