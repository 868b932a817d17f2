// `npm test`: every check Echo has, in the order a failure is cheapest to find, then one
// summary line that counts every test that ran.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

const RESULTS = "test-results";
rmSync(RESULTS, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });

const steps = [
  // npm install only warns when a package's engines exclude this Node.js; this fails instead.
  ["engines", "node", ["scripts/check-engines.mjs"]],
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
  [
    "fault tests (bounded)",
    "npx",
    [
      "--no-install",
      "vitest",
      "run",
      "--project",
      "faults",
      // The scenarios mostly wait (on timeouts, leases, start-ups): two files at a time halves the step.
      "--maxWorkers=2",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${RESULTS}/vitest-faults.json`,
    ],
    // The bounded form, whatever the caller's FAULTS_SCALE: `npm run test:faults` runs the larger ones.
    { FAULTS_SCALE: "1", FAULTS_REPORT_FILE: `${RESULTS}/faults.jsonl` },
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
for (const [name, command, args, stepEnv = {}] of steps) {
  const stepStarted = Date.now();
  console.log(`\n━━ ${name} ━━`);
  const result = spawnSync(command, args, {
    stdio: "inherit",
    env: { ...process.env, ...(process.env.CI ? {} : { FORCE_COLOR: "1" }), ...stepEnv },
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
  ["faults", countVitest(`${RESULTS}/vitest-faults.json`)],
  ["browser", countPlaywright(`${RESULTS}/playwright.json`)],
];
// Each fault scenario's figures, as its test printed them.
if (existsSync(`${RESULTS}/faults.jsonl`)) {
  console.log("\nFault scenarios");
  for (const line of readFileSync(`${RESULTS}/faults.jsonl`, "utf8").split("\n").filter(Boolean)) {
    console.log(`  ${JSON.parse(line).line.replace(/^\[faults\] /, "")}`);
  }
}
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
