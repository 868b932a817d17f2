import { expect, test } from "@playwright/test";
import { DEMO, logIn, logOut, signUp, snapshot, uniqueEmail } from "./support/pages";

test("the home page introduces Echo and links to sign up", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Echo" })).toBeVisible();
  await snapshot(page, "home");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/signup$/);
});

test("a new user signs up, logs out and logs back in", async ({ page }) => {
  const user = { name: "Grace Hopper", email: uniqueEmail("grace"), password: "compilers-rule-1952" };
  await signUp(page, user);
  await expect(page.getByRole("heading", { name: "Welcome, Grace Hopper" })).toBeVisible();
  await expect(page.getByTestId("current-user")).toHaveText(user.email);
  await snapshot(page, "dashboard-new-user");

  await logOut(page);
  await snapshot(page, "login");
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fdashboard$/);

  await logIn(page, user);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Welcome, Grace Hopper" })).toBeVisible();
});

test("a wrong password shows an error and stays on the login page", async ({ page }) => {
  await logIn(page, { email: DEMO.email, password: "not-the-password" });
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel("Email")).toHaveValue(DEMO.email);
  await snapshot(page, "login-wrong-password");
});

test("sign-up shows each field's error beside it", async ({ page }) => {
  await page.goto("/signup");
  await page.getByLabel("Name").fill("Short Password");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await expect(page.getByText("Use at least 10 characters")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await snapshot(page, "signup-field-errors");
});

test("the demo user's dashboard shows the demo data", async ({ page }) => {
  await logIn(page, DEMO);
  await expect(page).toHaveURL(/\/dashboard$/);
  for (const slug of ["linear", "slack", "github"]) {
    const card = page.getByTestId(`integration-${slug}`);
    await expect(card).toBeVisible();
    await expect(card.locator("img")).toHaveAttribute("src", `/icons/${slug}.svg`);
  }
  await expect(page.getByTestId("oauth-app").filter({ hasText: "Demo Notes App" })).toBeVisible();
  await snapshot(page, "dashboard-demo");
});

test("after logging in, the user returns to the page they asked for", async ({ page }) => {
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/redirectTo=%2Fdashboard/);
  await page.getByLabel("Email").fill(DEMO.email);
  await page.getByLabel("Password").fill(DEMO.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
});
