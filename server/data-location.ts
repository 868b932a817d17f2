import path from "node:path";

/**
 * Where this run keeps its data, for the start-up line. The data folder (ECHO_DATA_DIR, `.data`
 * by default) holds the embedded database in `postgres/` and the generated secrets in
 * `secrets.json`; with DATABASE_URL the database is elsewhere, and the folder holds only the
 * secrets that are not configured. A folder inside the working folder is shown relative to it,
 * as the README names it.
 */
export function describeDataLocation({
  dataDir,
  cwd,
  embeddedDatabase,
  localSecrets,
}: {
  dataDir: string;
  cwd: string;
  embeddedDatabase: boolean;
  localSecrets: boolean;
}): string {
  const absolute = path.resolve(cwd, dataDir);
  const relative = path.relative(cwd, absolute);
  const folder = relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? absolute : relative;
  if (embeddedDatabase) {
    return `data in ${folder}/: database in ${folder}/postgres/, secrets in ${folder}/secrets.json`;
  }
  return localSecrets ? `database at DATABASE_URL, secrets in ${folder}/secrets.json` : "database at DATABASE_URL";
}
