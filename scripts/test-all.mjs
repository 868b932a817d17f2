// `npm test`: every check Echo has, in the order a failure is cheapest to find, then one
// summary line that counts every test that ran.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

const RESULTS = "test-results";
rmSync(RESULTS, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });

const steps = [
  ["prisma generate", "node", ["scripts/prisma-generate.mjs"]],
  ["typecheck", "npx", ["--no-install", "tsc", "--noEmit"]],
  ["lint", "npx", ["--no-install", "eslint", "."]],
  ["format", "npx", ["--no-install", "prettier", "--check", "."]],
  [
    "unit tests",
    "npx",
    [
      "--no-install",
      "vitest",
      "run",
      "--project",
      "unit",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${RESULTS}/vitest-unit.json`,
    ],
  ],
  ["build", "npx", ["--no-install", "remix", "build"]],
  [
    "integration tests",
    "npx",
    [
      "--no-install",
      "vitest",
      "run",
      "--project",
      "integration",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${RESULTS}/vitest-integration.json`,
    ],
  ],
  ["browser tests", "npm", ["run", "--silent", "test:e2e:run"]],
];

function countVitest(file) {
  if (!existsSync(file)) return { passed: 0, failed: 0, skipped: 0 };
  const report = JSON.parse(readFileSync(file, "utf8"));
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

function countPlaywright(file) {
  if (!existsSync(file)) return { passed: 0, failed: 0, skipped: 0 };
  const { stats } = JSON.parse(readFileSync(file, "utf8"));
  return { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped };
}

const started = Date.now();
let failedStep;
for (const [name, command, args] of steps) {
  const stepStarted = Date.now();
  console.log(`\n━━ ${name} ━━`);
  const result = spawnSync(command, args, {
    stdio: "inherit",
    env: process.env.CI ? process.env : { ...process.env, FORCE_COLOR: "1" },
  });
  console.log(
    `━━ ${name}: ${result.status === 0 ? "ok" : "FAILED"} in ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`,
  );
  if (result.status !== 0) {
    failedStep = name;
    break;
  }
}

const counts = [
  ["unit", countVitest(`${RESULTS}/vitest-unit.json`)],
  ["integration", countVitest(`${RESULTS}/vitest-integration.json`)],
  ["browser", countPlaywright(`${RESULTS}/playwright.json`)],
];
console.log("\nSummary");
for (const [name, c] of counts)
  console.log(`  ${name.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
const total = counts.reduce(
  (sum, [, c]) => ({ passed: sum.passed + c.passed, failed: sum.failed + c.failed, skipped: sum.skipped + c.skipped }),
  { passed: 0, failed: 0, skipped: 0 },
);
console.log(`  took ${((Date.now() - started) / 1000).toFixed(0)} s${failedStep ? `; stopped at: ${failedStep}` : ""}`);
console.log(
  `tests: ${total.passed} passed, ${total.failed + (failedStep && total.failed === 0 ? 1 : 0)} failed, ${total.skipped} skipped`,
);
process.exit(failedStep ? 1 : 0);
