import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePort } from "../support/echo-server";
import { waitFor } from "../support/wait";

// A supervisor (systemd, a container runtime, `kill <pid>`) signals only the PID it started:
// here, `npm start`'s or `npm run bench`'s. npm forwards SIGINT/SIGTERM to the script's shell,
// and Debian's dash neither execs the last command nor passes the signal on, so without `exec`
// in the script the shell died and Echo and its PostgreSQL kept running. Each test signals
// npm's PID alone and then checks that nothing is left within 15 s.
//
// The scripts run with --ignore-scripts, which runs the script itself but not its `pre` script
// (`npm run build`): the suite has built the app already, and a second build here would rewrite
// build/ under the other test files that serve it.

const ROOT = path.resolve(import.meta.dirname, "../..");
const STOP_WITHIN_MS = 15_000;
const temporary: string[] = [];
const started: ChildProcess[] = [];

afterAll(async () => {
  // A failed test must not leave its processes behind either.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function temporaryDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // PostgreSQL (user 'postgres' when we are root) must reach inside.
  await chmod(dir, 0o755);
  temporary.push(dir);
  return dir;
}

function runNpm(args: string[], env: Record<string, string>) {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  const child = spawn("npm", args, {
    cwd: ROOT,
    env: { ...base, NODE_ENV: "production", LOG_LEVEL: "warn", npm_config_update_notifier: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, pid: child.pid!, output: () => output, exited };
}

/** Parent PIDs of every process, read from /proc. */
async function parentPids(): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // After the command in parentheses: state, then the parent's PID.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  return parents;
}

async function descendantsOf(pid: number): Promise<number[]> {
  const parents = await parentPids();
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

async function commandLine(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ").trim();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postgresProcessesUnder(dir: string): string {
  try {
    return execFileSync("pgrep", ["-af", `postgres -D ${dir}`], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Within 15 s of the signal: every listed process gone, the ports free, no PostgreSQL on `dataDir`. */
async function expectAllStopped({ pids, ports, dataDir }: { pids: number[]; ports: number[]; dataDir: string }) {
  const leftovers = async () => ({
    processes: (await Promise.all(pids.filter(isAlive).map(commandLine))).filter(Boolean),
    portsInUse: (await Promise.all(ports.map(async (port) => ((await portIsFree(port)) ? null : port)))).filter(
      (port) => port !== null,
    ),
    postgres: postgresProcessesUnder(dataDir),
  });
  const deadline = Date.now() + STOP_WITHIN_MS;
  let left = await leftovers();
  while (Date.now() < deadline) {
    if (left.processes.length === 0 && left.portsInUse.length === 0 && left.postgres === "") break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await leftovers();
  }
  expect(left).toEqual({ processes: [], portsInUse: [], postgres: "" });
}

async function startEcho(dataDir: string) {
  const port = await findFreePort();
  const postgresPort = await findFreePort();
  const npm = runNpm(["start", "--ignore-scripts"], {
    HOST: "127.0.0.1",
    PORT: String(port),
    APP_URL: `http://127.0.0.1:${port}`,
    EMBEDDED_POSTGRES_PORT: String(postgresPort),
    ECHO_DATA_DIR: dataDir,
    SEED_DEMO_DATA: "false",
  });
  return { npm, port, postgresPort };
}

async function untilRunning(npm: ReturnType<typeof runNpm>) {
  await waitFor(
    async () => {
      if (npm.child.exitCode !== null) throw new Error(`npm start exited early:\n${npm.output()}`);
      return npm.output().includes("Echo is running at");
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
}

describe("npm start, signalled at its own PID only", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`stops Echo and its PostgreSQL on ${signal}: both ports free, no PostgreSQL left`, async () => {
      const dataDir = path.join(await temporaryDir("echo-npm-start-"), "data");
      const { npm, port, postgresPort } = await startEcho(dataDir);
      await untilRunning(npm);
      expect(await portIsFree(port)).toBe(false);
      expect(await portIsFree(postgresPort)).toBe(false);
      const processes = await descendantsOf(npm.pid);

      process.kill(npm.pid, signal);

      await expectAllStopped({ pids: [npm.pid, ...processes], ports: [port, postgresPort], dataDir });
      expect(await npm.exited).toEqual({ code: 0, signal: null });
      expect(npm.output()).toContain(`${signal} received: shutting down Echo.`);
    }, 150_000);
  }

  it("stops the PostgreSQL it is starting when SIGTERM comes during start-up", async () => {
    const dataDir = path.join(await temporaryDir("echo-npm-start-early-"), "data");
    const { npm, port, postgresPort } = await startEcho(dataDir);
    await waitFor(async () => postgresProcessesUnder(dataDir) !== "", { timeoutMs: 90_000, intervalMs: 20 });
    const processes = await descendantsOf(npm.pid);

    process.kill(npm.pid, "SIGTERM");

    await expectAllStopped({ pids: [npm.pid, ...processes], ports: [port, postgresPort], dataDir });
    expect((await npm.exited).code).toBe(0);
    expect(npm.output()).not.toContain("Echo could not start");
    expect(npm.output()).not.toContain("Unhandled rejection");
  }, 150_000);
});

describe("npm run bench, signalled at its own PID only", () => {
  it("stops its Echo processes, its PostgreSQL and its receiver on SIGTERM", async () => {
    // The bench's work folder (and its PostgreSQL) goes in os.tmpdir(): this test's own.
    const tmp = await temporaryDir("echo-npm-bench-");
    const npm = runNpm(["run", "bench", "--ignore-scripts"], {
      TMPDIR: tmp,
      BENCH_SCENARIOS: "a",
      BENCH_EVENTS: "20000",
      BENCH_DIRECT: "200",
      BENCH_RECEIVER_PORTS: "2",
    });
    const isEcho = async (pid: number) => (await commandLine(pid)).includes("server/index.ts");
    await waitFor(
      async () => {
        if (npm.child.exitCode !== null) throw new Error(`npm run bench exited early:\n${npm.output()}`);
        for (const pid of await descendantsOf(npm.pid)) if (await isEcho(pid)) return true;
        return false;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    // Let the Echo process come up and the scenario begin.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const processes = await descendantsOf(npm.pid);
    expect(postgresProcessesUnder(tmp)).not.toBe("");

    process.kill(npm.pid, "SIGTERM");

    await expectAllStopped({ pids: [npm.pid, ...processes], ports: [], dataDir: tmp });
    expect(npm.output()).toContain("SIGTERM received: stopping the bench's Echo processes, PostgreSQL and receiver.");
    const workFolders = (await readdir(tmp)).filter((name) => name.startsWith("echo-bench-"));
    expect(workFolders).toEqual([]);
  }, 180_000);
});
