// `npm test`'s first step: every package Echo installs supports the Node.js that package.json's
// `engines` promises. npm install only warns (EBADENGINE) when one does not, so a dependency
// that drops Node 20 would otherwise slip in unnoticed. Two checks, both offline in practice:
//  1. npm's own dry run of `npm install`, from package.json and the lockfile: the EBADENGINE
//     warnings a real install would print on this Node.js and npm, nothing written, nothing
//     downloaded when the lockfile is complete (about 2 s);
//  2. the lockfile, where npm records each package's engines: each must allow every Node.js
//     version that package.json promises, also those CI does not run (semver.subset).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import semver from "semver";

const ADVICE =
  `Pick versions whose "engines" allow what package.json promises (docs/decisions/012-node-20.md), ` +
  `or change "engines" in package.json and the README.`;
const problems = [];

const dryRun = spawnSync(
  "npm",
  ["install", "--dry-run", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=warn", "--color=false"],
  { encoding: "utf8", env: { ...process.env, npm_config_engine_strict: "false" } },
);
const output = `${dryRun.stdout}${dryRun.stderr}`;
if (dryRun.status !== 0) {
  problems.push(`npm install --dry-run failed (exit ${dryRun.status ?? dryRun.signal}):\n${output.trim()}`);
} else if (output.includes("EBADENGINE")) {
  const packages = [...new Set([...output.matchAll(/package: '([^']+)'/g)].map((match) => match[1]))];
  const npmVersion = spawnSync("npm", ["--version"], { encoding: "utf8" }).stdout.trim();
  problems.push(
    `${output.trim()}\nNot for Node ${process.version} / npm ${npmVersion} (EBADENGINE): ${packages.join(", ")}.`,
  );
}

const manifest = JSON.parse(readFileSync("package.json", "utf8"));
const promised = manifest.engines?.node;
if (!promised) {
  problems.push(`package.json has no "engines": { "node": … }: say which Node.js versions Echo supports.`);
} else if (existsSync("package-lock.json")) {
  const lockfile = JSON.parse(readFileSync("package-lock.json", "utf8"));
  const narrower = Object.entries(lockfile.packages ?? {})
    // Optional packages (another platform's binaries) are skipped by npm when they do not fit.
    .filter(([location, entry]) => location !== "" && !entry.optional && entry.engines?.node)
    .filter(([, entry]) => {
      const range = semver.validRange(entry.engines.node);
      return range === null || !semver.subset(promised, range);
    })
    .map(
      ([location, entry]) =>
        `  ${entry.name ?? location.replace(/^.*node_modules\//, "")}@${entry.version}: ${entry.engines.node}`,
    );
  if (narrower.length > 0) {
    problems.push(
      `package.json promises Node ${promised}, but these packages support less:\n${[...new Set(narrower)].join("\n")}`,
    );
  }
}

if (problems.length > 0) {
  console.error(`${problems.join("\n\n")}\n\n${ADVICE}`);
  process.exit(1);
}
console.log(`Every package supports Node ${promised}, this one (${process.version}) included.`);
