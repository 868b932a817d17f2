import type { Database } from "~/db.server";
import { needsReencryption, reencryptSecret, type Keyring } from "~/lib/encryption";
import { resealCustomHeaders } from "~/services/webhooks/custom-headers.server";

/**
 * Every column that holds an AES-256-GCM value written by encryptAtRest. A `json` column
 * holds the ciphertext as a JSON string, or, in rows written before it was encrypted, the
 * plain value (see app/services/webhooks/custom-headers.server.ts).
 */
export const ENCRYPTED_COLUMNS = [
  { table: "OAuthClient", column: "webhookSecret", json: false },
  { table: "OAuthClient", column: "previousWebhookSecret", json: false },
  { table: "IntegrationAccount", column: "credentials", json: false },
  { table: "WebhookEndpoint", column: "secret", json: false },
  { table: "WebhookEndpoint", column: "previousSecret", json: false },
  { table: "WebhookEndpoint", column: "customHeaders", json: true },
] as const;

export type RotationReport = { table: string; column: string; scanned: number; reencrypted: number }[];

/** The column's new value as SQL text, or null when it is already under the current key. */
function rewritten(value: string, json: boolean, keys: Keyring): string | null {
  if (!json) return needsReencryption(value, keys) ? reencryptSecret(value, keys) : null;
  const sealed = resealCustomHeaders(JSON.parse(value) as Parameters<typeof resealCustomHeaders>[0], keys);
  return sealed === null ? null : JSON.stringify(sealed);
}

/**
 * Re-encrypts every encrypted column with the keyring's current key, `batchSize` rows at a
 * time (by id, so each batch is a short query), and seals custom headers still stored in
 * plain JSON. Idempotent: values already under the current key are left alone, so it can be
 * stopped and run again. Each row is rewritten only if it still holds the value that was
 * read, so a secret rotated meanwhile by its owner is not overwritten with the old one. A
 * value no known key opens stops the run with a DecryptionError.
 */
export async function reencryptAllSecrets(
  db: Database,
  keys: Keyring,
  { batchSize = 500 }: { batchSize?: number } = {},
): Promise<RotationReport> {
  const report: RotationReport = [];
  for (const { table, column, json } of ENCRYPTED_COLUMNS) {
    // jsonb is read and compared as its text, so the guard below is exact whatever the JSON holds.
    const read = json ? `"${column}"::text` : `"${column}"`;
    const write = json ? "$1::jsonb" : "$1";
    let scanned = 0;
    let reencrypted = 0;
    let after = "";
    for (;;) {
      // Table and column names come from the constant list above, never from input.
      const rows = await db.$queryRawUnsafe<{ id: string; value: string }[]>(
        `SELECT "id", ${read} AS "value" FROM "${table}" WHERE "${column}" IS NOT NULL AND "id" > $1 ORDER BY "id" LIMIT $2`,
        after,
        batchSize,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        scanned += 1;
        const next = rewritten(row.value, json, keys);
        if (next === null) continue;
        const updated = await db.$executeRawUnsafe(
          `UPDATE "${table}" SET "${column}" = ${write} WHERE "id" = $2 AND ${read} = $3`,
          next,
          row.id,
          row.value,
        );
        reencrypted += updated;
      }
      after = rows[rows.length - 1]!.id;
    }
    report.push({ table, column, scanned, reencrypted });
  }
  return report;
}
