import type { Database } from "~/db.server";
import { needsReencryption, reencryptSecret, type Keyring } from "~/lib/encryption";

/** Every column that holds an AES-256-GCM value written by encryptAtRest. */
export const ENCRYPTED_COLUMNS = [
  { table: "OAuthClient", column: "webhookSecret" },
  { table: "OAuthClient", column: "previousWebhookSecret" },
  { table: "IntegrationAccount", column: "credentials" },
  { table: "WebhookEndpoint", column: "secret" },
  { table: "WebhookEndpoint", column: "previousSecret" },
] as const;

export type RotationReport = { table: string; column: string; scanned: number; reencrypted: number }[];

/**
 * Re-encrypts every encrypted column with the keyring's current key, `batchSize` rows at a
 * time (by id, so each batch is a short query). Idempotent: values already under the current
 * key are left alone, so it can be stopped and run again. Each row is rewritten only if it
 * still holds the value that was read, so a secret rotated meanwhile by its owner is not
 * overwritten with the old one. A value no known key opens stops the run with a DecryptionError.
 */
export async function reencryptAllSecrets(
  db: Database,
  keys: Keyring,
  { batchSize = 500 }: { batchSize?: number } = {},
): Promise<RotationReport> {
  const report: RotationReport = [];
  for (const { table, column } of ENCRYPTED_COLUMNS) {
    let scanned = 0;
    let reencrypted = 0;
    let after = "";
    for (;;) {
      // Table and column names come from the constant list above, never from input.
      const rows = await db.$queryRawUnsafe<{ id: string; value: string }[]>(
        `SELECT "id", "${column}" AS "value" FROM "${table}" WHERE "${column}" IS NOT NULL AND "id" > $1 ORDER BY "id" LIMIT $2`,
        after,
        batchSize,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        scanned += 1;
        if (!needsReencryption(row.value, keys)) continue;
        const updated = await db.$executeRawUnsafe(
          `UPDATE "${table}" SET "${column}" = $1 WHERE "id" = $2 AND "${column}" = $3`,
          reencryptSecret(row.value, keys),
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
