import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "~/db.server";
import { DecryptionError, decryptSecret, encryptSecret, keyIdOf } from "~/lib/encryption";
import { createApiKey } from "~/services/api/api-keys.server";
import { createIntegrationAccount } from "~/services/integrations/handle-account-message.server";
import { createOAuthApp, rotateClientSecret, rotateWebhookSecret } from "~/services/oauth/oauth-apps.server";
import { ENCRYPTED_COLUMNS, reencryptAllSecrets } from "~/services/secrets-rotation.server";
import { openCustomHeaders } from "~/services/webhooks/custom-headers.server";
import {
  EndpointCreateSchema,
  EndpointUpdateSchema,
  createEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
} from "~/services/webhooks/endpoints.server";
import { createIntegrationDefinition, createUser } from "../support/fixtures/webhooks";

// Every kind of secret Echo keeps, created through the services, then the raw rows of every
// table read back as text: no plaintext anywhere. Then a key rotation, by the service and by
// `npm run secrets:rotate`.
const originalKey = process.env.ENCRYPTION_KEY as string;
const plaintexts: Record<string, string> = {};

beforeAll(async () => {
  const user = await createUser(prisma, "Keeper");
  const app = await createOAuthApp(prisma, user.id, {
    name: "At rest",
    clientType: "CONFIDENTIAL",
    redirectUris: ["https://rest.example/cb"],
    allowedScopes: ["openid", "integration"],
  });
  plaintexts.firstClientSecret = app.clientSecret!;
  plaintexts.clientSecret = await rotateClientSecret(prisma, user.id, app.id);
  plaintexts.firstAppWebhookSecret = await rotateWebhookSecret(prisma, user.id, app.id);
  plaintexts.appWebhookSecret = await rotateWebhookSecret(prisma, user.id, app.id);
  const key = await createApiKey(prisma, user.id, { name: "at rest" });
  if (!key.ok) throw new Error(key.error);
  plaintexts.apiKey = key.key;
  plaintexts.customHeaderApiKey = `rcv_${randomBytes(16).toString("hex")}`;
  plaintexts.customHeaderTenant = `tenant-${randomBytes(8).toString("hex")}`;
  const endpoint = await createEndpoint(
    { userId: user.id },
    EndpointCreateSchema.parse({
      name: "At rest",
      url: "https://rest.example/hook",
      customHeaders: { "X-Api-Key": plaintexts.customHeaderApiKey, "X-Tenant": plaintexts.customHeaderTenant },
    }),
  );
  plaintexts.endpointSecret = (await rotateEndpointSecret({ userId: user.id }, endpoint.id, undefined)).secret;
  // Saved again as the API shows it (the key redacted) plus a new credential: the update path seals too.
  plaintexts.customHeaderBearer = `Bearer ${randomBytes(16).toString("hex")}`;
  await updateEndpoint(
    { userId: user.id },
    endpoint.id,
    EndpointUpdateSchema.parse({
      customHeaders: {
        "X-Api-Key": "[redacted]",
        "X-Tenant": plaintexts.customHeaderTenant,
        Authorization: plaintexts.customHeaderBearer,
      },
    }),
  );
  const definition = await createIntegrationDefinition(prisma);
  plaintexts.integrationToken = `lin_oauth_${randomBytes(16).toString("hex")}`;
  await createIntegrationAccount(prisma, {
    userId: user.id,
    definition,
    message: {
      type: "account",
      data: {
        accountId: "acct-at-rest",
        displayName: "At rest",
        settings: {},
        credentials: { accessToken: plaintexts.integrationToken, refreshToken: "lin_refresh_at_rest_value" },
      },
    },
  });
  plaintexts.integrationRefreshToken = "lin_refresh_at_rest_value";
}, 60_000);

/** Every row of every table in the database, as text. */
async function everyRowAsText(): Promise<string> {
  const tables = await prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
  const dumps = await Promise.all(
    tables.map(({ table_name }) =>
      prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`),
    ),
  );
  return dumps
    .flat()
    .map(({ row }) => row)
    .join("\n");
}

describe("secrets at rest", () => {
  it("no client secret, API key, webhook secret, custom header or integration credential is stored in plaintext", async () => {
    const dump = await everyRowAsText();
    expect(dump.length).toBeGreaterThan(1000);
    for (const [name, value] of Object.entries(plaintexts)) {
      expect(dump.includes(value), `${name} is stored in plaintext`).toBe(false);
      // Nor the random part alone (without its prefix).
      expect(dump.includes(value.replace(/^(whsec_|echo_sk_|echo_cs_|Bearer )/, "")), `${name}'s body is stored`).toBe(
        false,
      );
    }
  });

  it("custom headers are stored sealed and read back as saved", async () => {
    const { customHeaders } = await prisma.webhookEndpoint.findFirstOrThrow({ select: { customHeaders: true } });
    expect(typeof customHeaders).toBe("string");
    expect(openCustomHeaders(customHeaders)).toEqual({
      "X-Api-Key": plaintexts.customHeaderApiKey,
      "X-Tenant": plaintexts.customHeaderTenant,
      Authorization: plaintexts.customHeaderBearer,
    });
  });

  it("encrypted columns hold v2 values under the current key", async () => {
    for (const { table, column, json } of ENCRYPTED_COLUMNS) {
      const rows = await prisma.$queryRawUnsafe<{ value: string }[]>(
        `SELECT ${ciphertextOf(column, json)} AS value FROM "${table}" WHERE "${column}" IS NOT NULL`,
      );
      expect(rows.length, `${table}.${column} has rows`).toBeGreaterThan(0);
      for (const { value } of rows) expect(value.startsWith(`v2.${keyIdOf(originalKey)}.`)).toBe(true);
    }
  });
});

/** The column's value as text; `#>>` unwraps a jsonb string (a sealed value) without its quotes. */
function ciphertextOf(column: string, json: boolean): string {
  return json ? `"${column}" #>> '{}'` : `"${column}"`;
}

async function encryptedValues(): Promise<string[]> {
  const all: string[] = [];
  for (const { table, column, json } of ENCRYPTED_COLUMNS) {
    const rows = await prisma.$queryRawUnsafe<{ value: string }[]>(
      `SELECT ${ciphertextOf(column, json)} AS value FROM "${table}" WHERE "${column}" IS NOT NULL ORDER BY "id"`,
    );
    all.push(...rows.map((row) => row.value));
  }
  return all;
}

describe("key rotation", () => {
  const secondKey = randomBytes(32).toString("base64");
  const thirdKey = randomBytes(32).toString("base64");

  it("re-encrypts every column with the new key, in batches, and a second run changes nothing", async () => {
    // A value from before key ids existed is rewritten too.
    const legacy = encryptSecret("legacy-secret-value", originalKey).split(".");
    await prisma.webhookEndpoint.updateMany({
      data: { previousSecret: ["v1", ...legacy.slice(2)].join(".") },
    });
    const before = await encryptedValues();
    const plain = before.map((value) => decryptSecret(value, originalKey));
    expect(plain).toContain("legacy-secret-value");

    const report = await reencryptAllSecrets(prisma, { current: secondKey, previous: [originalKey] }, { batchSize: 1 });
    expect(report.reduce((sum, column) => sum + column.reencrypted, 0)).toBe(before.length);

    const after = await encryptedValues();
    for (const value of after) expect(value.split(".").slice(0, 2)).toEqual(["v2", keyIdOf(secondKey)]);
    // Readable with the new key alone: the old one can be retired.
    expect(after.map((value) => decryptSecret(value, secondKey))).toEqual(plain);

    const again = await reencryptAllSecrets(prisma, { current: secondKey, previous: [originalKey] });
    expect(again.every((column) => column.reencrypted === 0)).toBe(true);
    expect(await encryptedValues()).toEqual(after);
  });

  it("`npm run secrets:rotate` re-encrypts with ENCRYPTION_KEY, reading old values with ENCRYPTION_KEYS_PREVIOUS", async () => {
    const { code, output } = await runRotateScript({ ENCRYPTION_KEY: thirdKey, ENCRYPTION_KEYS_PREVIOUS: secondKey });
    expect(output).toContain(`Re-encrypting with key ${keyIdOf(thirdKey)}`);
    expect(output).toMatch(/WebhookEndpoint\.secret: 1 re-encrypted of 1/);
    expect(output).toMatch(/WebhookEndpoint\.customHeaders: 1 re-encrypted of 1/);
    expect(code).toBe(0);
    for (const value of await encryptedValues()) expect(value.split(".")[1]).toBe(keyIdOf(thirdKey));
    expect(output).not.toContain(thirdKey);
    expect(output).not.toContain(secondKey);
  }, 60_000);

  it("seals custom headers still stored as a plain object (written before they were encrypted)", async () => {
    const legacy = { "X-Api-Key": `legacy_${randomBytes(16).toString("hex")}`, "X-Team": "blue" };
    const endpoint = await prisma.webhookEndpoint.findFirstOrThrow({ select: { id: true } });
    await prisma.webhookEndpoint.update({ where: { id: endpoint.id }, data: { customHeaders: legacy } });
    expect(openCustomHeaders(legacy)).toEqual(legacy);

    const keys = { current: thirdKey, previous: [] };
    const report = await reencryptAllSecrets(prisma, keys);
    expect(report.find((column) => column.column === "customHeaders")).toEqual({
      table: "WebhookEndpoint",
      column: "customHeaders",
      scanned: 1,
      reencrypted: 1,
    });
    expect(report.reduce((sum, column) => sum + column.reencrypted, 0)).toBe(1);

    const { customHeaders } = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(typeof customHeaders === "string" && customHeaders.startsWith(`v2.${keyIdOf(thirdKey)}.`)).toBe(true);
    expect(openCustomHeaders(customHeaders, keys)).toEqual(legacy);
    expect((await everyRowAsText()).includes(legacy["X-Api-Key"])).toBe(false);
    expect((await reencryptAllSecrets(prisma, keys)).every((column) => column.reencrypted === 0)).toBe(true);
  });

  it("stops, naming the key id, at a value no configured key opens, and leaves it as it was", async () => {
    const stranger = randomBytes(32).toString("base64");
    const orphan = encryptSecret("whsec_orphan", stranger);
    const endpoint = await prisma.webhookEndpoint.findFirstOrThrow({ select: { id: true, previousSecret: true } });
    await prisma.webhookEndpoint.update({ where: { id: endpoint.id }, data: { previousSecret: orphan } });

    await expect(reencryptAllSecrets(prisma, { current: originalKey, previous: [thirdKey] })).rejects.toThrow(
      DecryptionError,
    );
    const { code, output } = await runRotateScript({ ENCRYPTION_KEY: originalKey, ENCRYPTION_KEYS_PREVIOUS: thirdKey });
    expect(code).toBe(1);
    expect(output).toContain(`key id ${keyIdOf(stranger)}`);
    expect((await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).previousSecret).toBe(
      orphan,
    );
  }, 60_000);

  it("refuses to start with a previous key that is not 32 bytes", async () => {
    const { code, output } = await runRotateScript({ ENCRYPTION_KEY: thirdKey, ENCRYPTION_KEYS_PREVIOUS: "c2hvcnQ=" });
    expect(code).toBe(1);
    expect(output).toContain("ENCRYPTION_KEYS_PREVIOUS: key 1 must be 32 bytes");
  }, 60_000);
});

function runRotateScript(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/rotate-secrets.ts"], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}
