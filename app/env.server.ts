import { parseEnv } from "~/lib/env-schema";

/**
 * Every setting Echo reads, parsed once. Nothing else reads `process.env`.
 * The launcher (server/index.ts) fills in DATABASE_URL, SESSION_SECRET and
 * ENCRYPTION_KEY for the embedded local default before the app is imported.
 */
export const env = parseEnv(process.env);

/** Secure cookies, HSTS and the like only make sense when the app is served over https. */
export const isHttps = env.APP_URL.startsWith("https://");

/** Set by the operator, or by the launcher from the data folder for the local default. */
export function requireSetting(name: "SESSION_SECRET" | "ENCRYPTION_KEY" | "DATABASE_URL"): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: start Echo with \`npm start\`, or set ${name}.`);
  return value;
}
