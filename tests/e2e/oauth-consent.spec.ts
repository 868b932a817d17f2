import { createHash, randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { verifyWebhook } from "../../app/lib/webhooks/signing";
import { listen } from "../support/stand-ins/http";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { e2eDatabase } from "./support/database";
import { signUp, snapshot, uniqueEmail } from "./support/pages";

test("an app registered in the UI gets the integration scope through consent, hears about a connection, and loses access when revoked", async ({
  page,
  baseURL,
}) => {
  const callbacks: URL[] = [];
  const callbackServer = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // Browsers also ask the app for /favicon.ico.
    if (url.pathname === "/callback") callbacks.push(url);
    res.end("back at the app");
  });
  const receiver = await startWebhookReceiver();
  const db = await e2eDatabase();
  try {
    const email = uniqueEmail("developer");
    await signUp(page, { name: "Dana Developer", email, password: "a-long-password-4" });

    // Register the app.
    await page.getByRole("link", { name: "OAuth apps" }).click();
    await page.getByRole("link", { name: "New app" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Notes for Dana");
    await page.getByLabel("Redirect URIs (one per line)").fill(`${callbackServer.url}/callback`);
    await page.getByRole("checkbox", { name: /integration/ }).check();
    await page.getByRole("button", { name: "Create app" }).click();
    const clientId = (await page.getByTestId("client-id").textContent())!.trim();
    const clientSecret = (await page.getByTestId("secret-once").textContent())!.trim();
    expect(clientSecret).toMatch(/^echo_cs_/);
    await snapshot(page, "oauth-app-created");

    // Its webhook settings: the receiver's URL and a fresh signing secret.
    await page.getByRole("link", { name: "Go to the app" }).click();
    await page.getByRole("link", { name: "Webhook settings" }).click();
    await page.getByLabel("Webhook URL").fill(receiver.url);
    await page.getByRole("button", { name: "Save webhook settings" }).click();
    await expect(page.getByRole("status")).toHaveText("Webhook settings saved.");
    await page.getByRole("button", { name: "Generate secret" }).click();
    const webhookSecret = (await page.getByTestId("secret-once").textContent())!.trim();
    expect(webhookSecret).toMatch(/^whsec_/);
    await snapshot(page, "oauth-app-webhook-settings");

    // The app sends the user to Echo; the user consents.
    const verifier = randomBytes(32).toString("base64url");
    const authorize = new URL("/oauth/authorize", baseURL);
    authorize.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: `${callbackServer.url}/callback`,
      response_type: "code",
      scope: "openid integration",
      state: "xyz-state",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    }).toString();
    await page.goto(authorize.href);
    await expect(page.getByTestId("consent-app-name")).toHaveText("Notes for Dana");
    await expect(
      page.getByText("Be notified when you connect an integration, and see which integrations you connected"),
    ).toBeVisible();
    await snapshot(page, "oauth-consent");
    await page.getByRole("button", { name: "Allow" }).click();
    await expect.poll(() => callbacks.length).toBe(1);
    // The callback server answers before the browser has finished loading its page: wait for that
    // navigation, or the next page.goto is interrupted by it.
    await page.waitForURL((url) => url.pathname === "/callback");
    const callback = callbacks[0]!;
    expect(callback.searchParams.get("state")).toBe("xyz-state");

    const token = await fetch(new URL("/oauth/token", baseURL), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: callback.searchParams.get("code")!,
        redirect_uri: `${callbackServer.url}/callback`,
        client_id: clientId,
        client_secret: clientSecret,
        code_verifier: verifier,
      }),
    });
    expect(token.status).toBe(200);
    const { rows: grants } = await db.query<{ isActive: boolean }>(
      `SELECT g."isActive" FROM "OAuthIntegrationGrant" g JOIN "User" u ON u.id = g."userId" WHERE u.email = $1`,
      [email],
    );
    expect(grants).toEqual([{ isActive: true }]);

    // The user connects an integration: the app hears about it, signed.
    await page.goto("/integrations");
    await page.getByTestId("catalog-postmark").getByLabel("Server API token").fill("pm-valid-token");
    await page.getByTestId("catalog-postmark").getByRole("button", { name: "Connect Postmark" }).click();
    await expect(page.getByRole("status")).toHaveText("Connected Acme Transactional.");
    await receiver.waitForCount(1, 15_000);
    const webhook = receiver.received[0]!;
    expect(verifyWebhook(webhook.body, webhook.headers as Record<string, string>, [webhookSecret])).toMatchObject({
      ok: true,
    });

    // Revoking in Connected apps ends the grant.
    await page.getByRole("link", { name: "Connected apps" }).click();
    const row = page.getByTestId("connected-app").filter({ hasText: "Notes for Dana" });
    await expect(row).toContainText("notified of your integrations");
    await snapshot(page, "connected-apps");
    await row.getByRole("button", { name: "Revoke access" }).click();
    await expect(page.getByText("No app has access to your account.")).toBeVisible();
    const { rows: after } = await db.query<{ isActive: boolean }>(
      `SELECT g."isActive" FROM "OAuthIntegrationGrant" g JOIN "User" u ON u.id = g."userId" WHERE u.email = $1`,
      [email],
    );
    expect(after).toEqual([{ isActive: false }]);
  } finally {
    await db.end();
    await receiver.close();
    await callbackServer.close();
  }
});
