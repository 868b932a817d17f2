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
