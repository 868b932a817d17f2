import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * For the local default (no configuration at all), secrets are generated once and kept
 * in the data folder, so sessions and encrypted data survive restarts.
 */
const LocalSecretsSchema = z.object({
  sessionSecret: z.string().min(32),
  encryptionKey: z.string().refine((value) => Buffer.from(value, "base64").length === 32),
  postgresPassword: z.string().min(16),
});

export type LocalSecrets = z.infer<typeof LocalSecretsSchema>;

export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = path.join(dataDir, "secrets.json");
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`Cannot read ${file}: ${error.message}`);
  });
  if (existing !== undefined) {
    const parsed = LocalSecretsSchema.safeParse(JSON.parse(existing));
    if (!parsed.success) throw new Error(`${file} is damaged; delete it only if you also delete the data it protects.`);
    return parsed.data;
  }
  const secrets: LocalSecrets = {
    sessionSecret: randomBytes(32).toString("base64url"),
    encryptionKey: randomBytes(32).toString("base64"),
    postgresPassword: randomBytes(24).toString("base64url"),
  };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: "wx" });
  return secrets;
}
