import { randomBytes, createCipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { verifyWebhook } from "../../app/lib/webhooks/signing";
import { E2E_ENV, MCP_STAND_IN_PORT } from "../../playwright.config";
import { startWebhookReceiver } from "../support/webhook-receiver";
import { e2eDatabase } from "./support/database";
import { signUp, snapshot, uniqueEmail } from "./support/pages";

function encryptLikeEcho(plaintext: string): string {
  const { encryptionKey } = JSON.parse(readFileSync(path.join(E2E_ENV.ECHO_DATA_DIR, "secrets.json"), "utf8")) as {
    encryptionKey: string;
  };
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(encryptionKey, "base64"), iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(
    ".",
  );
}

test("a user connects the API-key integration, sees it listed, then disconnects it", async ({ page }) => {
  await signUp(page, { name: "Key Holder", email: uniqueEmail("keys"), password: "a-long-password-1" });
  await page.getByRole("link", { name: "Integrations" }).click();
  await expect(page.getByRole("heading", { name: "Integrations" })).toBeVisible();
  const postmark = page.getByTestId("catalog-postmark");

  await postmark.getByLabel("Server API token").fill("not-a-real-token");
  await postmark.getByRole("button", { name: "Connect Postmark" }).click();
  await expect(postmark.getByRole("alert")).toContainText("Postmark did not accept this server API token");
  await expect(page.getByTestId("connected-account")).toHaveCount(0);
  await snapshot(page, "integrations-wrong-key");

  await postmark.getByLabel("Server API token").fill("pm-valid-token");
  await postmark.getByRole("button", { name: "Connect Postmark" }).click();
  await expect(page.getByRole("status")).toHaveText("Connected Acme Transactional.");
  const account = page.getByTestId("connected-account");
  await expect(account).toHaveCount(1);
  await expect(account).toContainText("Postmark · Acme Transactional");
  await expect(account).toContainText("active");
  await expect(page.locator("body")).not.toContainText("pm-valid-token");
  await snapshot(page, "integrations-connected");

  await account.getByRole("button", { name: "Disconnect" }).click();
  await expect(page.getByTestId("connected-account")).toHaveCount(0);
  await expect(page.getByText("Nothing connected yet.")).toBeVisible();
});

test("connecting an integration in the browser delivers one signed integration.connected to the OAuth app", async ({
  page,
}) => {
  const receiver = await startWebhookReceiver();
  const db = await e2eDatabase();
  try {
    const email = uniqueEmail("granting");
    await signUp(page, { name: "Granting User", email, password: "a-long-password-2" });
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    // An app this user granted the integration scope (the OAuth consent flow's result).
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO "OAuthClient" (id, "clientId", name, "redirectUris", "allowedScopes", "ownerId", "webhookUrl", "webhookSecret", "updatedAt")
       SELECT $1, $1, 'Receiver App', ARRAY['http://127.0.0.1/cb'], ARRAY['openid','integration'], id, $2, $3, now() FROM "User" WHERE email = $4
       RETURNING id`,
      [`app-${randomBytes(4).toString("hex")}`, receiver.url, encryptLikeEcho(secret), email],
    );
    await db.query(
      `INSERT INTO "OAuthIntegrationGrant" (id, "clientId", "userId", scopes, "updatedAt")
       SELECT $1, $2, id, ARRAY['openid','integration'], now() FROM "User" WHERE email = $3`,
      [`grant-${randomBytes(4).toString("hex")}`, rows[0]!.id, email],
    );

    await page.goto("/integrations");
    await page.getByTestId("catalog-postmark").getByLabel("Server API token").fill("pm-valid-token");
    await page.getByTestId("catalog-postmark").getByRole("button", { name: "Connect Postmark" }).click();
    await expect(page.getByRole("status")).toHaveText("Connected Acme Transactional.");

    await receiver.waitForCount(1, 15_000);
    const webhook = receiver.received[0]!;
    const payload = JSON.parse(webhook.body) as {
      event: string;
      integration: { provider: string; account_id: string };
    };
    expect(payload).toMatchObject({
      event: "integration.connected",
      integration: { provider: "postmark", account_id: "4242" },
    });
    expect(verifyWebhook(webhook.body, webhook.headers as Record<string, string>, [secret])).toMatchObject({
      ok: true,
      format: "standard-webhooks",
    });

    // The receiver answers before Echo records the attempt; the log catches up a moment later.
    const row = page.getByTestId("delivery-row").first();
    await expect(async () => {
      await page.goto("/webhooks");
      await expect(row.getByTestId("delivery-status")).toHaveText("success", { timeout: 500 });
    }).toPass({ timeout: 10_000 });
    await snapshot(page, "deliveries-log");
    await row.getByRole("link", { name: "integration.connected" }).click();
    await expect(page.getByTestId("attempt")).toHaveCount(1);
    await expect(page.getByTestId("attempt")).toContainText("HTTP 200");
    await snapshot(page, "delivery-detail");
    expect(receiver.received).toHaveLength(1);
  } finally {
    await db.end();
    await receiver.close();
  }
});

test("a user connects an OAuth 2.0 integration and an MCP server, sees them listed, then disconnects them", async ({
  page,
}) => {
  await signUp(page, { name: "Many Tools", email: uniqueEmail("tools"), password: "a-long-password-3" });
  await page.goto("/integrations");

  // Linear: Echo sends the user to the provider (a local stand-in that approves at once) and back.
  await page.getByTestId("catalog-linear").getByRole("button", { name: "Connect Linear" }).click();
  await expect(page).toHaveURL(/\/integrations\?connected=/);
  await expect(page.getByRole("status")).toHaveText("Connected Ada Lovelace (ada@example.com).");

  // An MCP server: the real initialize handshake with a local MCP server.
  const mcp = page.getByTestId("catalog-mcp");
  await mcp.getByLabel("Server URL").fill(`http://127.0.0.1:${MCP_STAND_IN_PORT}/mcp`);
  await mcp.getByRole("button", { name: "Connect MCP server" }).click();
  await expect(page.getByRole("status")).toHaveText("Connected team-docs 1.4.0.");

  const accounts = page.getByTestId("connected-account");
  await expect(accounts).toHaveCount(2);
  await expect(accounts.filter({ hasText: "Linear · Ada Lovelace" })).toBeVisible();
  await expect(accounts.filter({ hasText: "MCP server · team-docs 1.4.0" })).toBeVisible();
  await snapshot(page, "integrations-oauth-and-mcp");

  // A server that is not there: a clear error, nothing added.
  await mcp.getByLabel("Server URL").fill("http://127.0.0.1:9/mcp");
  await mcp.getByRole("button", { name: "Connect MCP server" }).click();
  await expect(mcp.getByRole("alert")).toContainText("Could not complete the MCP handshake");
  await expect(accounts).toHaveCount(2);

  await accounts.filter({ hasText: "Linear" }).getByRole("button", { name: "Disconnect" }).click();
  await expect(accounts).toHaveCount(1);
  await accounts.filter({ hasText: "MCP server" }).getByRole("button", { name: "Disconnect" }).click();
  await expect(page.getByText("Nothing connected yet.")).toBeVisible();
});
