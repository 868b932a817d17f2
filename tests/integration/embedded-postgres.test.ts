import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "~/services/database/embedded-postgres.server";
import { findFreePort } from "../support/echo-server";
import { waitFor } from "../support/wait";

const temporary: string[] = [];
afterAll(() => Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true }))));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the embedded PostgreSQL", () => {
  it("stops at once when PostgreSQL already stopped (a terminal's Ctrl-C reaches the whole process group)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "echo-embedded-pg-"));
    temporary.push(dir);
    // PostgreSQL (user 'postgres' when we are root) must reach inside.
    await chmod(dir, 0o755);
    const dataDir = path.join(dir, "postgres");
    const postgres = await startEmbeddedPostgres({
      dataDir,
      port: await findFreePort(),
      password: "echo-embedded-test",
      databaseName: "echo",
      fsync: false,
    });
    const pid = Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);

    // What Ctrl-C does to the PostgreSQL that Echo started, before Echo gets to stop it.
    process.kill(pid, "SIGINT");
    await waitFor(async () => !isAlive(pid));

    const outcome = await Promise.race([
      postgres.stop().then(() => "stopped"),
      new Promise((resolve) => setTimeout(() => resolve("still waiting after 5 s"), 5_000)),
    ]);
    expect(outcome).toBe("stopped");
  }, 60_000);
});
