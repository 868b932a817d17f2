// `npm run secrets:rotate`: re-encrypts every secret at rest with ENCRYPTION_KEY (see docs/SECURITY.md, "Key rotation").
import { parseEnv } from "../app/lib/env-schema.ts";
import { keyIdOf } from "../app/lib/encryption.ts";

const env = (() => {
  try {
    return parseEnv(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
})();
if (!env.DATABASE_URL || !env.ENCRYPTION_KEY) {
  console.error(
    "Set DATABASE_URL, ENCRYPTION_KEY (the new key) and ENCRYPTION_KEYS_PREVIOUS (the old ones). " +
      "For the embedded database, DATABASE_URL is postgresql://postgres:<postgresPassword from .data/secrets.json>@127.0.0.1:54329/echo while Echo runs.",
  );
  process.exit(1);
}
const keys = { current: env.ENCRYPTION_KEY, previous: env.ENCRYPTION_KEYS_PREVIOUS };

// Imported only now: these modules read the settings checked above.
const { createDatabaseClient } = await import("../app/db.server.ts");
const { reencryptAllSecrets } = await import("../app/services/secrets-rotation.server.ts");
const db = createDatabaseClient(env.DATABASE_URL, { max: 2 });
try {
  console.log(
    `Re-encrypting with key ${keyIdOf(keys.current)} (previous: ${keys.previous.map(keyIdOf).join(", ") || "none"})`,
  );
  const report = await reencryptAllSecrets(db, keys);
  for (const { table, column, scanned, reencrypted } of report) {
    console.log(`${table}.${column}: ${reencrypted} re-encrypted of ${scanned}`);
  }
  console.log("Done. Once every Echo instance runs with the new key, the old ones can leave ENCRYPTION_KEYS_PREVIOUS.");
} catch (error) {
  console.error(`Rotation stopped: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
