import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// scripts/check-engines.mjs, the first step of `npm test`, run in a throwaway project whose one
// dependency (a local folder: nothing to download) declares the Node.js versions it supports.
const SCRIPT = path.resolve("scripts/check-engines.mjs");
const RUNNING_MAJOR = process.versions.node.split(".")[0];
const temporary: string[] = [];

afterAll(() => Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true }))));

async function project({ promises, dependencySupports }: { promises: string; dependencySupports: string }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "echo-engines-"));
  temporary.push(dir);
  await mkdir(path.join(dir, "dependency"));
  await writeFile(
    path.join(dir, "dependency", "package.json"),
    JSON.stringify({ name: "engines-fixture-dependency", version: "1.2.3", engines: { node: dependencySupports } }),
  );
  await writeFile(
    path.join(dir, "package.json"),
    JSON.stringify({
      name: "engines-fixture",
      version: "1.0.0",
      engines: { node: promises },
      dependencies: { "engines-fixture-dependency": "file:./dependency" },
    }),
  );
  // The lockfile, as `npm install` writes it: it records each package's engines.
  const lock = spawnSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund"], {
    cwd: dir,
    encoding: "utf8",
  });
  expect(lock.status, lock.stderr).toBe(0);
  return dir;
}

function check(cwd: string) {
  const result = spawnSync(process.execPath, [SCRIPT], { cwd, encoding: "utf8" });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm test's engines check", () => {
  it("passes when every package supports every Node.js the project promises", async () => {
    const { code, output } = check(
      await project({ promises: `^${RUNNING_MAJOR}.0`, dependencySupports: `>=${RUNNING_MAJOR}` }),
    );
    expect(output).not.toContain("EBADENGINE");
    expect(code).toBe(0);
  });

  it("fails and names the package when a dependency does not support the running Node.js", async () => {
    const { code, output } = check(await project({ promises: `>=${RUNNING_MAJOR}`, dependencySupports: ">=99" }));
    expect(code).toBe(1);
    expect(output).toContain(`Not for Node ${process.version}`);
    expect(output).toContain("engines-fixture-dependency@1.2.3");
  });

  it("fails when a dependency supports fewer Node.js versions than the project promises, this one included", async () => {
    const { code, output } = check(
      await project({
        promises: `^${RUNNING_MAJOR}.0 || >=99`,
        dependencySupports: `^${RUNNING_MAJOR}.0`,
      }),
    );
    expect(output).not.toContain("EBADENGINE");
    expect(code).toBe(1);
    expect(output).toContain(
      `package.json promises Node ^${RUNNING_MAJOR}.0 || >=99, but these packages support less:\n  engines-fixture-dependency@1.2.3: ^${RUNNING_MAJOR}.0`,
    );
  });

  it("fails when the project itself promises a Node.js other than the running one", async () => {
    const { code, output } = check(await project({ promises: ">=99", dependencySupports: ">=99" }));
    expect(code).toBe(1);
    expect(output).toContain("engines-fixture@1.0.0");
  });
});
